package install

import (
	"fmt"
	"strconv"
	"strings"
)

// serveArgv is serve's command line on the host. The password is read
// from its file, never given in argv.
func serveArgv(l Layout, port int, methods bool) []string {
	args := []string{l.Link(), "serve", "--port", strconv.Itoa(port), "--password-file", l.PasswordFile()}
	if methods {
		args = append(args, "--methods", l.MethodsFile(), "--state-dir", l.StateDir())
	}
	return args
}

// UserUnit is the systemd user unit that runs serve: the README's unit,
// corrected. Paths are absolute (systemd-analyze verify can check them);
// nothing is made read-only that a methods program or serve's job state
// needs, and async jobs are not killed when serve restarts.
func UserUnit(l Layout, port int, methods bool) string {
	return unitText(l, port, methods, false)
}

// SystemUnit is the system unit for ModeSystem: serve runs as l.User.
// /usr, /boot and /etc are read-only (ProtectSystem=full); the home, where
// serve keeps job state and methods programs keep their files, stays
// writable, which ProtectSystem=strict did not allow.
func SystemUnit(l Layout, port int, methods bool) string {
	return unitText(l, port, methods, true)
}

func unitText(l Layout, port int, methods, system bool) string {
	var b strings.Builder
	b.WriteString("# Written by rpcssh install; removed by rpcssh install --uninstall.\n")
	b.WriteString("[Unit]\nDescription=rpcssh XML-RPC server (loopback only, reached through SSH)\n")
	if system {
		b.WriteString("After=network.target\n")
	}
	b.WriteString("\n[Service]\nType=exec\n")
	if system {
		fmt.Fprintf(&b, "User=%s\n", l.User)
		fmt.Fprintf(&b, "WorkingDirectory=%s\n", l.Home)
	} else {
		b.WriteString("WorkingDirectory=~\n")
	}
	fmt.Fprintf(&b, "ExecStart=%s\n", unitCommand(serveArgv(l, port, methods)))
	b.WriteString("Restart=on-failure\nRestartSec=2\n")
	b.WriteString("# Only serve is stopped on restart: the jobs of async methods keep running.\nKillMode=process\n")
	b.WriteString("UMask=0077\n")
	b.WriteString("# Methods programs may not gain privileges (setuid, sudo).\nNoNewPrivileges=yes\n")
	b.WriteString("LockPersonality=yes\nRestrictRealtime=yes\nRestrictSUIDSGID=yes\n")
	if system {
		b.WriteString("# /usr, /boot and /etc read-only; the home (job state in ~/.local/state/rpcssh,\n")
		b.WriteString("# your programs' files) stays writable, which ProtectSystem=strict forbade.\n")
		b.WriteString("ProtectSystem=full\nProtectKernelTunables=yes\nProtectKernelModules=yes\nProtectControlGroups=yes\n")
		b.WriteString("\n[Install]\nWantedBy=multi-user.target\n")
	} else {
		b.WriteString("\n[Install]\nWantedBy=default.target\n")
	}
	return b.String()
}

// unitCommand joins argv for ExecStart, quoting words with spaces.
func unitCommand(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		if strings.ContainsAny(a, " \t\"'\\") {
			a = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(a) + `"`
		}
		words[i] = a
	}
	return strings.Join(words, " ")
}

// shellCommand joins argv for sh.
func shellCommand(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = quote(a)
	}
	return strings.Join(words, " ")
}

// stopDetachedFunc defines stop_detached: it stops the serve named by the
// pid file (only if that process is an rpcssh) and waits up to 10 s.
func stopDetachedFunc(l Layout) string {
	return `alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/stat" ] || return 0
  [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -c1)" != Z ]
}
stop_detached() {
  pidf=` + quote(l.PidFile()) + `
  [ -f "$pidf" ] || return 0
  pid=$(cat "$pidf")
  case "$pid" in ''|*[!0-9]*) rm -f "$pidf"; return 0;; esac
  if alive "$pid" && { [ ! -r "/proc/$pid/cmdline" ] || grep -q rpcssh "/proc/$pid/cmdline"; }; then
    kill "$pid"
    i=0
    while alive "$pid"; do
      i=$((i+1))
      if [ "$i" -gt 100 ]; then echo "serve (pid $pid) did not stop within 10s" >&2; return 1; fi
      sleep 0.1
    done
  fi
  rm -f "$pidf"
}
`
}

// exitedScript prints the pid in the detached serve's pid file when that
// process no longer runs (or is a zombie), and nothing when it runs or
// there is no pid file to go by.
func exitedScript(l Layout) string {
	return stopDetachedFunc(l) + `pidf=` + quote(l.PidFile()) + `
[ -f "$pidf" ] || exit 0
pid=$(cat "$pidf")
case "$pid" in ''|*[!0-9]*) exit 0;; esac
alive "$pid" || echo "$pid"
`
}

// startScript starts serve in mode (stopping what ran before in that
// mode) and prints notes for the user on stdout, one per line.
func startScript(l Layout, mode Mode, port int, methods, linger bool) string {
	argv := serveArgv(l, port, methods)
	var b strings.Builder
	b.WriteString("set -e\numask 077\n")
	switch mode {
	case ModeDetached:
		b.WriteString(stopDetachedFunc(l))
		b.WriteString("stop_detached\ncd \"$HOME\"\n")
		fmt.Fprintf(&b, "log=%s\n", quote(l.LogFile()))
		b.WriteString("if command -v setsid >/dev/null 2>&1; then s=setsid; else s=nohup; fi\n")
		fmt.Fprintf(&b, "$s %s </dev/null >>\"$log\" 2>&1 &\n", shellCommand(argv))
		fmt.Fprintf(&b, "echo $! > %s\n", quote(l.PidFile()))
	case ModeUser:
		fmt.Fprintf(&b, "mkdir -p %s\n", quote(dirOf(l.UserUnit())))
		fmt.Fprintf(&b, "cat > %s <<'RPCSSH_UNIT_EOF'\n%sRPCSSH_UNIT_EOF\n", quote(l.UserUnit()+".tmp"), UserUnit(l, port, methods))
		fmt.Fprintf(&b, "mv -f %s %s\n", quote(l.UserUnit()+".tmp"), quote(l.UserUnit()))
		b.WriteString("systemctl --user daemon-reload\n")
		fmt.Fprintf(&b, "systemctl --user enable %s\n", UserUnitName)
		fmt.Fprintf(&b, "systemctl --user restart %s\n", UserUnitName)
		if !linger {
			fmt.Fprintf(&b, "loginctl enable-linger 2>/dev/null || echo %s\n",
				quote("lingering is off, so serve stops at logout and starts only at login: ask an admin to run: sudo loginctl enable-linger "+l.User))
		}
	case ModeSystem:
		name := l.SystemUnitName()
		fmt.Fprintf(&b, "sudo -n tee %s >/dev/null <<'RPCSSH_UNIT_EOF'\n%sRPCSSH_UNIT_EOF\n", quote(l.SystemUnit()), SystemUnit(l, port, methods))
		b.WriteString("sudo -n systemctl daemon-reload\n")
		fmt.Fprintf(&b, "sudo -n systemctl enable %s\n", name)
		fmt.Fprintf(&b, "sudo -n systemctl restart %s\n", name)
	}
	return b.String()
}

// stopScript stops and removes what mode installed to keep serve running.
func stopScript(l Layout, mode Mode) string {
	var b strings.Builder
	switch mode {
	case ModeDetached:
		b.WriteString(stopDetachedFunc(l))
		b.WriteString("stop_detached\n")
	case ModeUser:
		fmt.Fprintf(&b, "systemctl --user disable --now %s 2>/dev/null || true\n", UserUnitName)
		fmt.Fprintf(&b, "rm -f %s\n", quote(l.UserUnit()))
		b.WriteString("systemctl --user daemon-reload 2>/dev/null || true\n")
	case ModeSystem:
		name := l.SystemUnitName()
		fmt.Fprintf(&b, "sudo -n systemctl disable --now %s 2>/dev/null || true\n", name)
		fmt.Fprintf(&b, "sudo -n rm -f %s\n", quote(l.SystemUnit()))
		b.WriteString("sudo -n systemctl daemon-reload\n")
	}
	return b.String()
}

// logScript prints the last lines serve logged in mode.
func logScript(l Layout, mode Mode) string {
	switch mode {
	case ModeUser:
		return fmt.Sprintf("journalctl --user -u %s -n 5 --no-pager -o cat 2>&1 || true\n", UserUnitName)
	case ModeSystem:
		return fmt.Sprintf("sudo -n journalctl -u %s -n 5 --no-pager -o cat 2>&1 || true\n", l.SystemUnitName())
	}
	return fmt.Sprintf("tail -n 5 %s 2>/dev/null || true\n", quote(l.LogFile()))
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}
