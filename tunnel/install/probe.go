package install

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Mode is how serve is kept running on the host.
type Mode string

const (
	ModeAuto       Mode = ""               // systemd user unit if usable, else detached
	ModeUser       Mode = "systemd-user"   // ~/.config/systemd/user/rpcssh.service
	ModeSystem     Mode = "systemd-system" // /etc/systemd/system/rpcssh-USER.service, through sudo
	ModeDetached   Mode = "detached"       // setsid, pid file, log file; not across a reboot
	modeNotRunning Mode = "none"
)

// Host is what Probe found on the host.
type Host struct {
	OS, Arch    string // uname -s and -m, e.g. "Linux", "x86_64"
	GOOS        string // the Go names, "" when unknown
	GOARCH      string
	Layout      Layout
	SystemdUser bool   // `systemctl --user` answers
	Linger      bool   // loginctl says lingering is enabled for the user
	Sudo        bool   // `sudo -n true` works
	Installed   Record // the install already there; zero when none
}

// Record is what an install wrote to ~/.local/lib/rpcssh/install.conf.
type Record struct {
	ID      string // the version directory's name; "" when nothing is installed
	Version string // the binary's Go module version
	Mode    Mode
	Port    int
	Methods bool
}

func (r Record) text() string {
	return fmt.Sprintf("id=%s\nversion=%s\nmode=%s\nport=%d\nmethods=%t\n", r.ID, r.Version, r.Mode, r.Port, r.Methods)
}

func parseRecord(kv map[string]string, prefix string) Record {
	port, _ := strconv.Atoi(kv[prefix+"port"])
	return Record{
		ID:      kv[prefix+"id"],
		Version: kv[prefix+"version"],
		Mode:    Mode(kv[prefix+"mode"]),
		Port:    port,
		Methods: kv[prefix+"methods"] == "true",
	}
}

// probeScript prints key=value lines; it changes nothing.
const probeScript = `echo "os=$(uname -s)"
echo "arch=$(uname -m)"
echo "home=$HOME"
echo "user=$(id -un)"
if systemctl --user show-environment >/dev/null 2>&1; then echo systemd_user=yes; fi
if [ "$(loginctl show-user "$(id -un)" -p Linger --value 2>/dev/null)" = yes ]; then echo linger=yes; fi
if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then echo sudo=yes; fi
f="$HOME/.local/lib/rpcssh/install.conf"
if [ -f "$f" ]; then sed 's/^/installed./' "$f"; fi
`

// Probe reads what the install needs to know about the host. It changes
// nothing there. Errors: *StepError with Step "probe".
func Probe(ctx context.Context, c Conn) (Host, error) {
	out, err := runScript(ctx, c, "probe", probeScript)
	if err != nil {
		return Host{}, err
	}
	kv := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			kv[k] = v
		}
	}
	h := Host{
		OS:          kv["os"],
		Arch:        kv["arch"],
		Layout:      Layout{Home: kv["home"], User: kv["user"]},
		SystemdUser: kv["systemd_user"] == "yes",
		Linger:      kv["linger"] == "yes",
		Sudo:        kv["sudo"] == "yes",
		Installed:   parseRecord(kv, "installed."),
	}
	if h.OS == "" || h.Arch == "" {
		return Host{}, &StepError{Step: "probe", Msg: fmt.Sprintf("uname gave no answer (got %q)", strings.TrimSpace(out))}
	}
	if !path.IsAbs(h.Layout.Home) || h.Layout.User == "" {
		return Host{}, &StepError{Step: "probe", Msg: fmt.Sprintf("the login shell has no usable HOME (%q) or user (%q)", h.Layout.Home, h.Layout.User)}
	}
	h.GOOS, h.GOARCH = goPlatform(h.OS, h.Arch)
	return h, nil
}

// goPlatform maps uname -s and -m to GOOS and GOARCH; "" when unknown.
func goPlatform(osName, arch string) (goos, goarch string) {
	switch osName {
	case "Linux":
		goos = "linux"
	case "Darwin":
		goos = "darwin"
	case "FreeBSD":
		goos = "freebsd"
	case "OpenBSD":
		goos = "openbsd"
	case "NetBSD":
		goos = "netbsd"
	}
	switch arch {
	case "x86_64", "amd64":
		goarch = "amd64"
	case "aarch64", "arm64":
		goarch = "arm64"
	case "i386", "i686":
		goarch = "386"
	case "armv6l", "armv7l":
		goarch = "arm"
	case "riscv64":
		goarch = "riscv64"
	case "ppc64le":
		goarch = "ppc64le"
	case "s390x":
		goarch = "s390x"
	}
	return goos, goarch
}
