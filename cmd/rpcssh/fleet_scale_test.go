//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFleetScale calls echo on 100 and 1,000 SSH hosts served by
// another process (testdata/fleethosts), through the rpcssh binary, and
// reports what the client costs: hosts/s, CPU time (user+system) per
// host, its peak RSS, and how many connections were open at once: the
// most sockets the client held (sampled from /proc every millisecond; the
// fan-out must hold at most --parallel), and the most SSH connections the
// hosts saw (counted until the host notices the close, so that count runs
// over --parallel by the hosts' lag on a busy machine).
//
//	go test ./cmd/rpcssh -run '^$' -bench FleetScale -benchtime 1x
func BenchmarkFleetScale(b *testing.B) {
	if testing.Short() {
		b.Skip("starts 1,000 SSH servers")
	}
	dir := b.TempDir()
	bin := testBinary(b)
	hostsBin := filepath.Join(dir, "fleethosts")
	if out, err := exec.Command("go", "build", "-o", hostsBin, "./testdata/fleethosts").CombinedOutput(); err != nil {
		b.Fatalf("go build ./testdata/fleethosts: %v\n%s", err, out)
	}
	if _, err := writeClientKey(dir); err != nil {
		b.Fatal(err)
	}
	const parallel = 32
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			fleetDir := filepath.Join(dir, strconv.Itoa(n))
			if err := os.MkdirAll(fleetDir, 0o700); err != nil {
				b.Fatal(err)
			}
			for _, f := range []string{"id_ed25519", "id_ed25519.pub"} {
				data, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					b.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(fleetDir, f), data, 0o600); err != nil {
					b.Fatal(err)
				}
			}
			// An empty ssh_config: a named file must exist (as for ssh -F).
			if err := os.WriteFile(filepath.Join(fleetDir, "ssh_config"), nil, 0o600); err != nil {
				b.Fatal(err)
			}
			hosts := exec.Command(hostsBin, "-n", strconv.Itoa(n), "-dir", fleetDir)
			hosts.Env = append(os.Environ(), "FLEET_PASSWORD=bench pw")
			hosts.Stderr = os.Stderr
			stdin, err := hosts.StdinPipe()
			if err != nil {
				b.Fatal(err)
			}
			stdout, err := hosts.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			if err := hosts.Start(); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { stdin.Close(); hosts.Wait() })
			lines := bufio.NewScanner(stdout)
			readLine := func(prefix string) string {
				if !lines.Scan() {
					b.Fatalf("fleethosts: no %q line: %v", prefix, lines.Err())
				}
				v, ok := strings.CutPrefix(lines.Text(), prefix+" ")
				if !ok {
					b.Fatalf("fleethosts: got %q, want %q ...", lines.Text(), prefix)
				}
				return v
			}
			rpcPort := readLine("ready")

			var cpu, wall time.Duration
			var rss int64
			var peak, clientPeak int
			b.ResetTimer()
			for range b.N {
				cmd := exec.Command(bin, "call", "--hosts-file", filepath.Join(fleetDir, "hosts"),
					"--key", filepath.Join(fleetDir, "id_ed25519"), "--known-hosts", filepath.Join(fleetDir, "known_hosts"),
					"--ssh-config", filepath.Join(fleetDir, "ssh_config"), "--port", rpcPort,
					"--parallel", strconv.Itoa(parallel), "--output", "json", "echo", "hi")
				cmd.Env = append(os.Environ(), "HOME="+fleetDir, "SSH_AUTH_SOCK=", "RPCSSH_PASSWORD=bench pw")
				var out, errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errb
				start := time.Now()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				sockets := watchSockets(cmd.Process.Pid)
				if err := cmd.Wait(); err != nil {
					b.Fatalf("rpcssh call on %d hosts: %v\n%s", n, err, errb.String())
				}
				wall += time.Since(start)
				clientPeak = max(clientPeak, sockets())
				if got := strings.Count(out.String(), `"ok":true,"result":"HI"`); got != n {
					b.Fatalf("%d hosts answered HI, want %d\n%s", got, n, errb.String())
				}
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
				rss = max(rss, ru.Maxrss) // KiB on Linux
				fmt.Fprintln(stdin, "peak")
				p, _ := strconv.Atoi(readLine("peak"))
				peak = max(peak, p)
			}
			b.StopTimer()
			calls := float64(b.N * n)
			b.ReportMetric(calls/wall.Seconds(), "hosts/s")
			b.ReportMetric(float64(cpu.Microseconds())/1000/calls, "cpu-ms/host")
			b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
			b.ReportMetric(float64(peak), "hosts-peak-conns")
			b.ReportMetric(float64(clientPeak), "client-peak-sockets")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// watchSockets samples how many sockets process pid holds, every
// millisecond until it exits; the returned func stops and gives the most.
func watchSockets(pid int) func() int {
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		most := 0
		fdDir := fmt.Sprintf("/proc/%d/fd", pid)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				done <- most
				return
			case <-t.C:
			}
			fds, err := os.ReadDir(fdDir)
			if err != nil {
				continue
			}
			n := 0
			for _, fd := range fds {
				if l, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
					n++
				}
			}
			most = max(most, n)
		}
	}()
	return func() int { close(stop); return <-done }
}
