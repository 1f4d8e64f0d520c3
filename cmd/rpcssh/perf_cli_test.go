package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// BenchmarkCLIEcho64MiB echoes a 64 MiB string the way a user would: the
// rpcssh binary runs 'call echo @file' as a new process through a real
// sshd to an 'rpcssh serve' process, and its stdout is checked against
// the upper-cased payload. Beside it, the ceiling: the same 64 MiB up and
// back through the same sshd by OpenSSH, 'ssh -W' to a TCP echo server
// (not 'ssh host cat', whose login shell costs more than the transfer).
//
//	go test -run '^$' -bench CLIEcho64MiB -benchtime 3x ./cmd/rpcssh/
//
// It reports the payload MiB/s of each, the CPU seconds of the ssh and
// rpcssh processes (figures a busy machine does not inflate as much as
// wall time), serve's peak RSS over the payload and the call's share of
// the ssh -W ceiling.
func BenchmarkCLIEcho64MiB(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("peak RSS is read from /proc")
	}
	const size = 64 << 20
	p := &perfPeers{parent: b, results: map[string]perfResult{}}
	dir := b.TempDir()
	payload := cliPayload(size)
	file := filepath.Join(dir, "payload.txt")
	if err := os.WriteFile(file, payload, 0o600); err != nil {
		b.Fatal(err)
	}
	want := append(bytes.ToUpper(payload), '\n')
	var ceiling float64
	b.Run("ssh-W-echo", func(b *testing.B) {
		d := p.realSSHD(b)
		sshPath, err := exec.LookPath("ssh")
		if err != nil {
			b.Skip(err)
		}
		args := append(d.sshArgs(), "-W", tunneltest.EchoServer(b, "tcp", ""), d.Host())
		ceiling = timeTransfers(b, size, func() error {
			in, err := os.Open(file)
			if err != nil {
				return err
			}
			defer in.Close()
			cmd := exec.Command(sshPath, args...)
			cmd.Stdin = in
			out := &matchWriter{want: payload}
			cmd.Stdout = out
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("ssh -W: %v: %s", err, stderr.Bytes())
			}
			b.ReportMetric(cpuSeconds(cmd.ProcessState), "ssh-cpu-s/op")
			return out.check()
		})
	})
	b.Run("rpcssh-call", func(b *testing.B) {
		d := p.realSSHD(b)
		bin := p.rpcsshBin(b)
		target, pid := p.startServe(b, size>>20+1) // the envelope is a few bytes more than the payload
		_, port, _ := strings.Cut(target, ":")
		env := append(os.Environ(), "HOME="+b.TempDir(), "SSH_AUTH_SOCK=", "RPCSSH_PASSWORD="+perfPassword, "RPCSSH_PASSPHRASE=", "RPCSSH_CONTROL_PERSIST=0")
		args := []string{"call", "--host", d.Host(), "--ssh-port", strconv.Itoa(d.Port()), "--user", d.User,
			"--key", d.ClientKeyPath, "--known-hosts", d.knownHosts, "--ssh-config", "none",
			"--port", port, "echo", "@" + file}
		serveStart := serveCPU(b, pid)
		mibs := timeTransfers(b, size, func() error {
			cmd := exec.Command(bin, args...)
			cmd.Env = env
			out := &matchWriter{want: want}
			cmd.Stdout = out
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("rpcssh call: %v: %s", err, stderr.Bytes())
			}
			b.ReportMetric(cpuSeconds(cmd.ProcessState), "call-cpu-s/op")
			return out.check()
		})
		rss, err := peakRSS(pid)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(rss)/(1<<20), "serve-peak-MiB")
		b.ReportMetric(float64(rss)/size, "rss/payload")
		b.ReportMetric(float64(serveCPU(b, pid)-serveStart)/clockTicks/float64(b.N), "serve-cpu-s/op")
		if ceiling > 0 {
			b.ReportMetric(mibs/ceiling, "x-ssh-W")
		}
	})
}

// cliPayload is size bytes of lower-case ASCII text in lines.
func cliPayload(size int) []byte {
	const line = "the quick brown fox jumps over the lazy dog, 0123456789 (tags)\n"
	return []byte(strings.Repeat(line, size/len(line)+1)[:size])
}

// timeTransfers runs op b.N times and reports the payload MiB/s; it
// returns that figure.
func timeTransfers(b *testing.B, size int, op func() error) float64 {
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	mibs := float64(size) * float64(b.N) / (1 << 20) / elapsed.Seconds()
	b.ReportMetric(mibs, "MiB/s")
	return mibs
}

// matchWriter compares what is written to want as it arrives, without
// holding a second copy.
type matchWriter struct {
	want []byte
	n    int
	bad  bool
}

func (w *matchWriter) Write(p []byte) (int, error) {
	if !w.bad {
		end := w.n + len(p)
		if end > len(w.want) || !bytes.Equal(p, w.want[w.n:end]) {
			w.bad = true
		}
	}
	w.n += len(p)
	return len(p), nil
}

func (w *matchWriter) check() error {
	if w.bad || w.n != len(w.want) {
		return fmt.Errorf("output: %d bytes, want %d (the upper-cased payload); differs: %v", w.n, len(w.want), w.bad)
	}
	return nil
}

// cpuSeconds is a finished process's user plus system time.
func cpuSeconds(ps *os.ProcessState) float64 {
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times on Linux.
const clockTicks = 100

// serveCPU is a live process's user plus system time in clock ticks, from
// /proc/PID/stat (fields 14 and 15, counted after the command's ')').
func serveCPU(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	f := strings.Fields(rest) // f[0] is field 3, the state
	if len(f) < 13 {
		b.Fatalf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		b.Fatal(err)
	}
	return utime + stime
}
