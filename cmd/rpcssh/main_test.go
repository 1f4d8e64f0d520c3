package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/internal/racetest"
	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

func TestMain(m *testing.M) {
	if err := racetest.NoExitSleep(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	testscript.Main(removingBuilds{m}, map[string]func(){"rpcssh": main})
}

// removingBuilds runs the tests, then removes the binaries they built.
type removingBuilds struct{ m *testing.M }

func (r removingBuilds) Run() int {
	code := r.m.Run()
	if err := builds.Remove(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}

// TestScript runs one script per CLI behaviour from testdata/script. Each
// script gets, in $WORK: a client key (id_ed25519), a known_hosts holding
// an in-process SSH server's key ($SSH_PORT), an in-process XML-RPC server
// on $RPC_PORT (password $RPC_PASSWORD) with echo, args, fail and slow
// methods, a free port $FREE_PORT, and HOME=$WORK/home.
func TestScript(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:   "testdata/script",
		Setup: setupScript,
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "sshd":
				_, err := sshdPath()
				return err == nil, nil
			case "python3":
				_, err := exec.LookPath("python3")
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitport":     cmdWaitPort,
			"freeport":     cmdFreePort,
			"sshd":         cmdSSHD,
			"buildbin":     cmdBuildRPCSSH,
			"buildversion": cmdBuildVersion,
			"dropresp":     cmdDropResponse,
		},
	})
}

func sshdPath() (string, error) {
	if p, err := exec.LookPath("sshd"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err == nil {
		return "/usr/sbin/sshd", nil
	}
	return "", errors.New("sshd not installed")
}

func writeClientKey(dir string) (ssh.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "rpcssh test")
	if err != nil {
		return nil, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "id_ed25519"), pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	return sshPub, os.WriteFile(filepath.Join(dir, "id_ed25519.pub"), ssh.MarshalAuthorizedKey(sshPub), 0o644)
}

const scriptPassword = "pa:ss w0rd"

func setupScript(env *testscript.Env) error {
	work := env.WorkDir
	home := filepath.Join(work, "home")
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		return err
	}
	env.Setenv("HOME", home)
	env.Setenv("USERPROFILE", home)
	env.Setenv("SSH_AUTH_SOCK", "")
	env.Setenv("RPCSSH_PASSWORD", "")
	env.Setenv("RPCSSH_PASSPHRASE", "")
	env.Setenv("RPCSSH_CONTROL_PERSIST", "0") // the control_* scripts turn sharing on

	pub, err := writeClientKey(work)
	if err != nil {
		return err
	}
	srv, err := tunneltest.Start(tunneltest.Config{AuthorizedKeys: []ssh.PublicKey{pub}})
	if err != nil {
		return err
	}
	env.Defer(srv.Close)
	if err := os.WriteFile(filepath.Join(work, "known_hosts"), []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		return err
	}
	_, sshPort, _ := net.SplitHostPort(srv.Addr())
	env.Setenv("SSH_PORT", sshPort)
	env.Setenv("SSH_FINGERPRINT", regexp.QuoteMeta(ssh.FingerprintSHA256(srv.HostKey()))) // used in regexps

	rpcPort, err := startRPC(env)
	if err != nil {
		return err
	}
	env.Setenv("RPC_PORT", strconv.Itoa(rpcPort))
	env.Setenv("RPC_PASSWORD", scriptPassword)

	seed, err := filepath.Abs(filepath.Join("..", "..", "rpc", "testdata", "python", "seed_server.py"))
	if err != nil {
		return err
	}
	env.Setenv("SEED_SERVER", seed)
	env.Setenv("PY_UNIX_SERVER", filepath.Join(filepath.Dir(seed), "unix_server.py"))

	free, err := freePort()
	if err != nil {
		return err
	}
	env.Setenv("FREE_PORT", strconv.Itoa(free))
	return nil
}

// startRPC runs the server the scripts call: serve's own methods plus
// args (returns its params), first (returns its first param), fail (a fault) and slow (sleeps).
func startRPC(env *testscript.Env) (int, error) {
	srv := rpc.NewServer(rpc.ServerConfig{Username: "user", Password: scriptPassword})
	if err := registerBuiltins(srv); err != nil {
		return 0, err
	}
	methods := []rpc.Method{
		{Name: "args", Raw: func(_ context.Context, params []any) (any, error) { return params, nil }},
		{Name: "first", Raw: func(_ context.Context, params []any) (any, error) {
			if len(params) == 0 {
				return nil, &rpc.Fault{Code: rpc.CodeInvalidParams, Message: "want one param"}
			}
			return params[0], nil
		}},
		{Name: "fail", Func: func(msg string) error { return &rpc.Fault{Code: 42, Message: msg} }},
		{Name: "slow", Func: func(ctx context.Context, seconds float64) (string, error) {
			select {
			case <-time.After(time.Duration(seconds * float64(time.Second))):
				return "done", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}},
	}
	for _, m := range methods {
		if err := srv.RegisterMethod(m); err != nil {
			return 0, err
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, l); close(done) }()
	env.Defer(func() { cancel(); <-done })
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// cmdWaitPort waits (at most 20 s) until something accepts on
// 127.0.0.1:PORT, or on the Unix socket at an absolute PATH.
func cmdWaitPort(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitport PORT|PATH")
	}
	network, addr := "tcp", net.JoinHostPort("127.0.0.1", args[0])
	if filepath.IsAbs(args[0]) {
		network, addr = "unix", args[0]
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			c.Close()
			if neg {
				ts.Fatalf("port %s accepts connections", args[0])
			}
			return
		}
		if time.Now().After(deadline) {
			if neg {
				return
			}
			ts.Fatalf("nothing listens on port %s: %v", args[0], err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cmdFreePort sets the variable named by its argument to a free port.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	p, err := freePort()
	ts.Check(err)
	ts.Setenv(args[0], strconv.Itoa(p))
}

// cmdSSHD starts a real OpenSSH sshd for the script that accepts
// $WORK/id_ed25519 and writes its key to $WORK/sshd_known_hosts; it sets
// $SSHD_PORT and $SSHD_USER. Arguments are extra sshd_config lines.
func cmdSSHD(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! sshd")
	}
	dir := ts.MkAbs("sshd")
	ts.Check(os.MkdirAll(dir, 0o700))
	pubBytes, err := os.ReadFile(ts.MkAbs("id_ed25519.pub"))
	ts.Check(err)
	pub, _, _, _, err := ssh.ParseAuthorizedKey(pubBytes)
	ts.Check(err)
	d, err := tunneltest.LaunchSSHD(dir, tunneltest.SSHDConfig{Extra: args})
	ts.Check(err)
	ts.Defer(d.Close)
	ts.Check(d.Authorize(pub))
	ts.Check(os.WriteFile(ts.MkAbs("sshd_known_hosts"), []byte(d.KnownHostsLine("ed25519")+"\n"), 0o600))
	ts.Setenv("SSHD_PORT", strconv.Itoa(d.Port()))
	ts.Setenv("SSHD_USER", d.User)
}
