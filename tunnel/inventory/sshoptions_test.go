package inventory_test

import (
	"slices"
	"testing"

	"github.com/rpcssh/rpcssh/tunnel/inventory"
)

func TestTargetSSHOptions(t *testing.T) {
	tests := []struct {
		name             string
		args             []string
		wantOpts, wantOt []string
	}{
		{"none", nil, nil, nil},
		{"-o apart and joined", []string{"-o", "Port=2222", "-oServerAliveInterval=5"}, []string{"Port=2222", "ServerAliveInterval=5"}, nil},
		{"other arguments named", []string{"-C", "-o", "User=x", "-J", "bastion"}, []string{"User=x"}, []string{"-C", "-J", "bastion"}},
		{"a trailing -o has no value", []string{"-o"}, nil, []string{"-o"}},
	}
	for _, tt := range tests {
		opts, other := inventory.Target{SSHArgs: tt.args}.SSHOptions()
		if !slices.Equal(opts, tt.wantOpts) || !slices.Equal(other, tt.wantOt) {
			t.Errorf("%s: SSHOptions() = %q, %q; want %q, %q", tt.name, opts, other, tt.wantOpts, tt.wantOt)
		}
	}
}
