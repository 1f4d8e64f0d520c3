//go:build unix

package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeMulticallMemoryBounded runs the requests that made serve's
// memory balloon (issue 13, item 3) against a real `rpcssh serve` (a
// non-race build) with the default 64 MiB body limit, each against a fresh
// serve, and checks its peak RSS (VmHWM) stays under 5 x the body limit:
// 64 x jobs.output of 16 MiB in one 18 KB multicall (1.28 GB before),
// 1,000,000 empty multicall entries (650 MiB before), the same 64 calls
// as 1,000 calls, and one jobs.output of 16 MiB alone.
func TestServeMulticallMemoryBounded(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds rpcssh and moves hundreds of MiB")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("no /proc to read peak RSS from: %v", err)
	}
	const (
		limit = 64 << 20 // serve's default --max-body-mib
		chunk = 16 << 20 // jobs.output's largest max_bytes
		pw    = "multicall-mem"
	)
	bin := testBinary(t)
	dir := t.TempDir()
	methods := writeMethods(t, dir, `[[method]]
name = "produce"
async = true
argv = ["/bin/sh", "-c", "head -c 67108864 /dev/zero | tr '\\0' a"]
`)
	state := filepath.Join(dir, "state")
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+pw))

	// One job with 64 MiB of output, made by a first serve and read back
	// by each fresh serve from the state directory.
	{
		_, addr := startServe(t, bin, pw, "--methods", methods, "--state-dir", state)
		c := relClient(t, addr, pw)
		var id string
		if err := c.Call(relCtx(t, 60*time.Second), "produce", nil, &id); err != nil {
			t.Fatal(err)
		}
		var st map[string]any
		if err := c.Call(relCtx(t, 90*time.Second), "jobs.wait", []any{id, 60}, &st); err != nil || st["output_bytes"] != int64(64<<20) {
			t.Fatalf("jobs.wait = %v, %v; want the job ended with 64 MiB of output", st, err)
		}
		os.WriteFile(filepath.Join(dir, "id"), []byte(id), 0o600)
	}
	idb, _ := os.ReadFile(filepath.Join(dir, "id"))
	id := string(idb)

	multicall := func(n int, entry string) []byte {
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0"?><methodCall><methodName>system.multicall</methodName><params><param><value><array><data>`)
		for range n {
			b.WriteString(entry)
		}
		b.WriteString(`</data></array></value></param></params></methodCall>`)
		return b.Bytes()
	}
	output := fmt.Sprintf(`<value><struct><member><name>methodName</name><value>jobs.output</value></member><member><name>params</name><value><array><data><value>%s</value><value><int>0</int></value><value><int>%d</int></value></data></array></value></member></struct></value>`, id, chunk)
	tests := []struct {
		name string
		body []byte
		want string // in the response
	}{
		{"64 x jobs.output of 16 MiB in one multicall", multicall(64, output), "result dropped: it would take the multicall's response past its limit"},
		{"1,000 x jobs.output of 16 MiB in one multicall", multicall(1000, output), "not run: the multicall's response reached its limit"},
		{"1,000,000 empty multicall entries", multicall(1_000_000, "<value><struct></struct></value>"), "more than 1000 calls in one system.multicall"},
		{"one jobs.output of 16 MiB", []byte(fmt.Sprintf(`<?xml version="1.0"?><methodCall><methodName>jobs.output</methodName><params><param><value>%s</value></param><param><value><int>0</int></value></param><param><value><int>%d</int></value></param></params></methodCall>`, id, chunk)), "next_offset"},
	}
	var worst int64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, addr := startServe(t, bin, pw, "--methods", methods, "--state-dir", state)
			mustServeEcho(t, relClient(t, addr, pw))
			base, err := peakRSS(srv.cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("POST", "http://"+addr+"/RPC2", bytes.NewReader(tt.body))
			req.Header.Set("Authorization", auth)
			req.Header.Set("Content-Type", "text/xml")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			// Read the response as a stream, keeping only its start and
			// its size, so that the test's own memory stays small.
			head := make([]byte, 64<<10)
			hn, _ := io.ReadFull(resp.Body, head)
			rest, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			size := int64(hn) + rest
			peak, err := peakRSS(srv.cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			worst = max(worst, peak)
			t.Logf("request %d KiB, response %d MiB; serve VmHWM %d MiB at start, %d MiB after (limit %d MiB, bound %d MiB)",
				len(tt.body)>>10, size>>20, base>>20, peak>>20, limit>>20, 5*limit>>20)
			if resp.StatusCode != 200 {
				t.Errorf("status %d, want 200", resp.StatusCode)
			}
			if size > limit+64<<10 {
				t.Errorf("response %d bytes, want at most the %d-byte limit", size, limit)
			}
			if !strings.Contains(string(head[:hn]), tt.want) && !bytes.Contains(head[:hn], []byte(tt.want)) {
				// A long first result can push the fault past the head.
				if size < int64(len(head)) {
					t.Errorf("response lacks %q:\n%.400s", tt.want, head[:hn])
				}
			}
			if peak > 5*limit {
				t.Errorf("serve VmHWM %d MiB, want at most %d MiB (5 x the body limit)", peak>>20, 5*limit>>20)
			}
		})
	}
	t.Logf("worst peak RSS: %d MiB (bound %d MiB)", worst>>20, 5*limit>>20)
}
