package tunneltest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Account is a throw-away non-root login account with a fresh home, for
// tests that need a real, unprivileged user on the real sshd (an install
// into an empty home, say). It is for tests only.
type Account struct {
	Name string
	UID  int
	Home string // made by useradd -m: only the skeleton files are in it
	// AuthorizedKeys is outside the home (so the home stays as useradd made
	// it) and readable by the account; see SSHDLines.
	AuthorizedKeys string
	base           string
}

// AddAccount creates a user account for the test with useradd, its home in
// a fresh directory, and removes it (after killing every process it still
// runs, by pid) in tb.Cleanup. It skips the test when not running as root
// or when useradd is missing.
func AddAccount(tb TB) *Account {
	tb.Helper()
	if testingShort() {
		tb.Skip("skipping: creates a user account; not in -short mode")
	}
	if os.Geteuid() != 0 {
		tb.Skip("skipping: creating a test account needs root")
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		tb.Skipf("skipping: %v", err)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	a := &Account{Name: "rpcsshtest" + hex.EncodeToString(rnd[:])}
	base, err := os.MkdirTemp("", "rpcssh-account-")
	if err != nil {
		tb.Fatalf("account: %v", err)
	}
	a.base = base
	// The account must reach its home and authorized_keys through base.
	if err := os.Chmod(base, 0o711); err != nil {
		tb.Fatalf("account: %v", err)
	}
	a.Home = filepath.Join(base, "home")
	a.AuthorizedKeys = filepath.Join(base, "authorized_keys")
	if out, err := exec.Command("useradd", "-m", "-d", a.Home, "-s", "/bin/sh", a.Name).CombinedOutput(); err != nil {
		os.RemoveAll(base)
		tb.Fatalf("useradd: %v: %s", err, bytes.TrimSpace(out))
	}
	tb.Cleanup(func() { a.remove(tb) })
	// A "!" password locks the account, and sshd without PAM refuses a
	// locked account even a key login; "*" only forbids passwords.
	if out, err := exec.Command("usermod", "-p", "*", a.Name).CombinedOutput(); err != nil {
		tb.Fatalf("usermod: %v: %s", err, bytes.TrimSpace(out))
	}
	u, err := user.Lookup(a.Name)
	if err != nil {
		tb.Fatalf("account: %v", err)
	}
	a.UID, _ = strconv.Atoi(u.Uid)
	return a
}

// Authorize lets key log in as the account.
func (a *Account) Authorize(key ssh.PublicKey) error {
	return appendAuthorizedKey(a.AuthorizedKeys, 0o644, key)
}

// SSHDLines are sshd_config lines (for SSHDConfig.Extra, which comes last)
// that make sshd read the account's AuthorizedKeys.
func (a *Account) SSHDLines() []string {
	return []string{"Match User " + a.Name, "  AuthorizedKeysFile " + a.AuthorizedKeys}
}

// Pids lists the live processes the account runs (from /proc; none
// elsewhere). Zombies are left out.
func (a *Account) Pids() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := os.Open(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "State:"); ok && strings.HasPrefix(strings.TrimSpace(rest), "Z") {
				break // a zombie runs nothing; its parent has yet to reap it
			}
			if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
				if fs := strings.Fields(rest); len(fs) > 0 && fs[0] == strconv.Itoa(a.UID) {
					pids = append(pids, pid)
				}
				break
			}
		}
		f.Close()
	}
	return pids
}

func (a *Account) remove(tb TB) {
	for range 3 {
		pids := a.Pids()
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out, err := exec.Command("userdel", a.Name).CombinedOutput(); err != nil {
		tb.Errorf("userdel %s: %v: %s", a.Name, err, bytes.TrimSpace(out))
	}
	if err := os.RemoveAll(a.base); err != nil {
		tb.Errorf("account: %v", err)
	}
}

// String is the account's name.
func (a *Account) String() string { return fmt.Sprintf("%s (uid %d)", a.Name, a.UID) }
