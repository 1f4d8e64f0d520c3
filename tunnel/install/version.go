package install

import (
	"debug/buildinfo"
	"strings"
)

// ReleaseVersionSymbol is the variable a release build of rpcssh sets to
// state its version: go build -ldflags "-X main.releaseVersion=v1.2.3".
// Without it, rpcssh reports the Go module version of its build info.
const ReleaseVersionSymbol = "main.releaseVersion"

// binaryVersion is the version a binary with build info reports: the one
// its -ldflags set with ReleaseVersionSymbol, else its module version,
// else "(devel)".
func binaryVersion(info *buildinfo.BuildInfo) string {
	for _, s := range info.Settings {
		if s.Key != "-ldflags" {
			continue
		}
		for _, f := range strings.Fields(s.Value) {
			f = strings.TrimPrefix(strings.TrimPrefix(f, "-X"), "=")
			if v, ok := strings.CutPrefix(f, ReleaseVersionSymbol+"="); ok && v != "" {
				return v
			}
		}
	}
	if info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
