package main

import (
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel/install"
)

// releaseVersion is the version a release build states:
// go build -ldflags "-X main.releaseVersion=v1.2.3" (install.ReleaseVersionSymbol,
// which `rpcssh install` reads from the binary it copies). "" means the
// module version of the build info.
var releaseVersion string

// registerVersionMethod adds rpcssh.version, which `rpcssh install` uses
// to see that the new serve answers and `rpcssh status` to report it.
func registerVersionMethod(srv *rpc.Server, methodsFile string) error {
	started := time.Now()
	exe, err := os.Executable()
	if err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
	}
	if methodsFile != "" {
		if abs, err := filepath.Abs(methodsFile); err == nil {
			methodsFile = abs
		}
	}
	return srv.RegisterMethod(rpc.Method{
		Name:       install.VersionMethod,
		Help:       "rpcssh.version() returns serve's version, platform, pid, executable, start time, uptime and methods file.",
		Signatures: [][]string{{"struct"}},
		Func: func() install.ServerInfo {
			return install.ServerInfo{
				Version:     version(),
				GoVersion:   runtime.Version(),
				OS:          runtime.GOOS,
				Arch:        runtime.GOARCH,
				PID:         os.Getpid(),
				Executable:  exe,
				Started:     started.UTC().Truncate(time.Second),
				UptimeS:     int64(time.Since(started).Seconds()),
				MethodsFile: methodsFile,
			}
		},
	})
}
