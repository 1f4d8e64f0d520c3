package tunneltest_test

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// dialSSHD connects with plain x/crypto/ssh, verifying the host key through a
// known_hosts file the harness wrote.
func dialSSHD(t *testing.T, s *tunneltest.SSHD, knownHostsPath string) (*ssh.Client, error) {
	t.Helper()
	b, err := os.ReadFile(s.ClientKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(knownHostsPath)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:              s.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   cb,
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		Timeout:           5 * time.Second,
	})
}

func TestStartSSHDServesForwarding(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		name := "ipv4"
		if v6 {
			name = "ipv6"
		}
		t.Run(name, func(t *testing.T) {
			s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{IPv6: v6})
			kh := filepath.Join(t.TempDir(), "known_hosts")
			if err := s.WriteKnownHosts(kh, false); err != nil {
				t.Fatal(err)
			}
			c, err := dialSSHD(t, s, kh)
			if err != nil {
				t.Fatalf("dial %s: %v\n%s", s.Addr(), err, s.Log())
			}
			defer c.Close()

			// A forwarded connection reaches a listener behind sshd.
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			go func() {
				conn, err := l.Accept()
				if err == nil {
					conn.Write([]byte("hello"))
					conn.Close()
				}
			}()
			conn, err := c.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatalf("direct-tcpip through sshd: %v", err)
			}
			defer conn.Close()
			buf := make([]byte, 5)
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Read(buf); err != nil || string(buf) != "hello" {
				t.Errorf("read = %q, %v, want hello", buf, err)
			}
		})
	}
}

func TestSSHDKnownHostsLineMatchesOpenSSH(t *testing.T) {
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{HostKeyTypes: []string{"ed25519", "ecdsa"}})
	out, err := exec.Command("ssh-keyscan", "-p", strconv.Itoa(s.Port()), "-t", "ed25519", s.Host()).Output()
	if err != nil {
		t.Skipf("ssh-keyscan: %v", err)
	}
	got := s.KnownHostsLine("ed25519")
	if !strings.Contains(string(out), got) {
		t.Errorf("KnownHostsLine = %q, not in ssh-keyscan output %q", got, out)
	}
	if s.KnownHostsLine("rsa") != "" {
		t.Error("KnownHostsLine(rsa) != \"\" for a server without an rsa key")
	}
}

func TestSSHDHashedKnownHosts(t *testing.T) {
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := s.WriteKnownHosts(kh, true, "ed25519"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(kh)
	if !strings.HasPrefix(string(b), "|1|") {
		t.Fatalf("hashed known_hosts = %q, want a |1| line", b)
	}
	if out, err := exec.Command("ssh-keygen", "-F", "["+s.Host()+"]:"+strconv.Itoa(s.Port()), "-f", kh).Output(); err != nil || len(out) == 0 {
		t.Errorf("ssh-keygen -F finds nothing in the hashed file: %v", err)
	}
	c, err := dialSSHD(t, s, kh)
	if err != nil {
		t.Fatalf("dial with hashed known_hosts: %v", err)
	}
	c.Close()
}

func TestSSHDRestartKeepsPortAndKeys(t *testing.T) {
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := s.WriteKnownHosts(kh, false); err != nil {
		t.Fatal(err)
	}
	c, err := dialSSHD(t, s, kh)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait() }()
	addr := s.Addr()
	if err := s.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	select {
	case <-waited: // the old connection died with its sshd child
	case <-time.After(10 * time.Second):
		t.Fatal("connection survived Stop: per-connection sshd not killed")
	}
	if s.Addr() != addr {
		t.Errorf("Addr after Restart = %s, want %s", s.Addr(), addr)
	}
	c2, err := dialSSHD(t, s, kh)
	if err != nil {
		t.Fatalf("dial after Restart: %v", err)
	}
	c2.Close()
}

func TestLaunchSSHDWithoutTB(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if _, err := tunneltest.FindSSHD(); err != nil {
		t.Skip(err)
	}
	s, err := tunneltest.LaunchSSHD(t.TempDir(), tunneltest.SSHDConfig{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial running sshd: %v", err)
	}
	conn.Close()
	s.Close()
	if conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second); err == nil {
		// Something listens on the port: sshd, or another process's
		// listener that got the freed port meanwhile (packages test side
		// by side). Only OpenSSH's banner says it is sshd.
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		banner, _ := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if strings.HasPrefix(banner, "SSH-2.0-OpenSSH") {
			t.Errorf("sshd still answers after Close: %q", banner)
		}
	}
}
