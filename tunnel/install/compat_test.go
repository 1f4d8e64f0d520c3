package install

import "testing"

func TestMismatch(t *testing.T) {
	for _, tc := range []struct {
		client, server string
		matters        bool
	}{
		{"v1.2.3", "v1.2.3", false},
		{"v1.2.3", "v1.2.9", false},
		{"v1.2.3", "v1.3.0", true},
		{"v1.3.0", "v1.2.0", true},
		{"v2.0.0", "v1.9.0", true},
		{"v1.2.0-rc.1", "v1.2.0", false},
		{"v1.2.4-0.20261130095400-ee7f877abcde", "v1.2.3", false}, // a pseudo-version after v1.2.3
		{"v0.0.0-20261130095400-ee7f877abcde", "v0.0.0-20261201000000-0123456789ab", false},
		{"v0.0.0-20261130095400-ee7f877abcde+dirty", "v0.1.0", true},
		{"(devel)", "(devel)", false},
		{"(devel)", "v1.2.3", false},
		{"v1.2.3", "", false},
		{"v1.2", "v1.3.0", false},
		{"v01.2.3", "v1.3.0", false},
	} {
		got := Mismatch(tc.client, tc.server)
		if (got != "") != tc.matters {
			t.Errorf("Mismatch(%q, %q) = %q, want a reason: %v", tc.client, tc.server, got, tc.matters)
		}
	}
}
