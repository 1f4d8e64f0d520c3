package install

import (
	"debug/buildinfo"
	"runtime/debug"
	"testing"
)

func TestBinaryVersion(t *testing.T) {
	for _, tc := range []struct {
		name, ldflags, module, want string
	}{
		{"release with =", "-X=main.releaseVersion=v1.2.3", "v0.0.0-20261130-abc", "v1.2.3"},
		{"release with a space", "-s -w -X main.releaseVersion=v1.3.0", "", "v1.3.0"},
		{"another symbol", "-X=main.other=v9.9.9", "v0.0.0-20261130-abc", "v0.0.0-20261130-abc"},
		{"empty value", "-X=main.releaseVersion=", "v1.0.0", "v1.0.0"},
		{"nothing known", "", "", "(devel)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := &buildinfo.BuildInfo{Main: debug.Module{Version: tc.module}}
			if tc.ldflags != "" {
				info.Settings = []debug.BuildSetting{{Key: "-ldflags", Value: tc.ldflags}}
			}
			if got := binaryVersion(info); got != tc.want {
				t.Errorf("binaryVersion(-ldflags %q, module %q) = %q, want %q", tc.ldflags, tc.module, got, tc.want)
			}
		})
	}
}
