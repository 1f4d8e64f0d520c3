package tunnel

import "testing"

// TestConnectionHash pins %C: the first value is what `ssh -G` (OpenSSH
// 9.2, host "vm") printed for ControlPath /x/%C with host h, port 22, user
// root; the second adds the jump host, as current OpenSSH does.
func TestConnectionHash(t *testing.T) {
	tests := []struct {
		thisHost, host, port, user, jump string
		want                             string
	}{
		{"vm", "h", "22", "root", "", "f6c7b5c5686c0e29702f588dbcf31794a61da818"},
		{"vm", "h", "22", "root", "jh", "936d46d150631a0f0866e632ea6c56faa6401392"},
	}
	for _, tt := range tests {
		if got := connectionHash(tt.thisHost, tt.host, tt.port, tt.user, tt.jump); got != tt.want {
			t.Errorf("connectionHash(%q, %q, %q, %q, %q) = %s, want %s", tt.thisHost, tt.host, tt.port, tt.user, tt.jump, got, tt.want)
		}
	}
	for spec, want := range map[string]string{"": "", "a@b:2,c": "c", "ssh://u@last:9": "last", "none": ""} {
		if got := lastJumpHost(spec); got != want {
			t.Errorf("lastJumpHost(%q) = %q, want %q", spec, got, want)
		}
	}
}
