package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateSecurityTable = flag.Bool("update", false, "rewrite the security table in README.md")

// securityCase is one row of README's "What was tried" table: what was
// sent or done, what happens, and the tests that show it ("file:TestName",
// "file:TestName/subtest" or a testscript "file.txtar"), relative to the
// module root. TestSecurityTableUpToDate checks that every test named here
// exists, so the table cannot claim what no test proves.
type securityCase struct {
	area, tried, result string
	tests               []string
}

var securityCases = []securityCase{
	// Server: credentials.
	{"server", "`Authorization` missing, empty, other scheme, lower-case scheme, unpadded, non-base64, colon-less, three tokens, non-UTF-8, 60 KiB",
		"401 with `WWW-Authenticate: Basic realm=\"rpcssh\", charset=\"UTF-8\"` (a valid lower-case `basic` is accepted, as RFC 7617 says); the next call works",
		[]string{"rpc/auth_test.go:TestAuthHeaders"}},
	{"server", "wrong password; `pass:anything` against `pass`; a password containing `:`",
		"401 for the first two (constant-time compare of the whole password); `pa:ss` and `:::` log in",
		[]string{"rpc/auth_test.go:TestAuthHeaders", "rpc/auth_test.go:TestPasswordWithColons"}},
	// Server: XML.
	{"server", "billion laughs, quadratic blowup, external entities (`file://` to a marker file, `http://` to a counting server, parameter entity, external DTD)",
		"fault -32700 `DOCTYPE and other declarations are not allowed`; the marker never appears and the DTD server gets no request",
		[]string{"rpc/hostile_server_test.go:TestHostileRequestBodies", "rpc/codec_test.go:TestDecodeRejects"}},
	{"server", "not XML, empty body, truncated XML, undeclared entity",
		"fault -32700 (or -32600 for an empty body) naming the byte offset",
		[]string{"rpc/hostile_server_test.go:TestHostileRequestBodies"}},
	{"server", "unknown method; wrong param type; too few or too many params; a `<spam/>` value",
		"faults -32601 `method \"x\" not found`, -32602 `param 1: want int, got string` / `want 2 params, got 1`, -32600 `unknown value type <spam>`",
		[]string{"rpc/hostile_server_test.go:TestHostileRequestBodies"}},
	{"server", "10,000-digit `<int>`, `<i8>` and `<double>`; `<i8>` past int64",
		"fault -32602 `... (10000 digits) out of range`, in linear time; `<int>` wider than 32 bits is accepted as int64 (Python and kolo send it)",
		[]string{"rpc/hostile_server_test.go:TestHostileRequestBodies", "rpc/hostile_server_test.go:TestWideIntsAccepted"}},
	{"server", "invalid UTF-8 in a string or method name; control characters and `&#0;`/`&#27;`",
		"fault -32700 `invalid UTF-8` / `character U+1 not allowed in XML` / `invalid character reference`",
		[]string{"rpc/hostile_server_test.go:TestHostileRequestBodies"}},
	{"server", "a million nested arrays (46 MB)",
		"fault -32600 `values nested deeper than 128 levels`; the decoder stops after about 128 levels",
		[]string{"rpc/hostile_server_test.go:TestMillionNestedArraysOverHTTP", "rpc/codec_test.go:TestDecodeMillionNestedArraysStopsEarly"}},
	// Server: size and time.
	{"server", "512 MiB body without credentials, or with a wrong password (Content-Length or chunked)",
		"401 and the connection closed unread: the server reads under 300 KB, `rpcssh serve` stays at 13 MiB RSS",
		[]string{"rpc/hostile_server_test.go:TestOversizedBodiesRejectedUnread", "cmd/rpcssh/reliability_test.go:TestServeMemoryBoundedUnderHugeBodies"}},
	{"server", "512 MiB body with valid credentials",
		"413 at once for a Content-Length past the limit (13 MiB RSS); a chunked body is cut at the limit (64 MiB by default, `--max-body-mib`): serve's peak RSS 271 MiB (about 4 x the limit), never the body's size",
		[]string{"rpc/hostile_server_test.go:TestOversizedBodiesRejectedUnread", "cmd/rpcssh/reliability_test.go:TestServeMemoryBoundedUnderHugeBodies"}},
	{"server", "gzip bomb (1 GiB of zeros in 1 MiB); bad or truncated gzip; other `Content-Encoding`",
		"413 once the inflated body passes the limit, having read only the compressed bytes that inflate to it; 400; 415",
		[]string{"rpc/hostile_server_test.go:TestOversizedBodiesRejectedUnread", "cmd/rpcssh/reliability_test.go:TestServeMemoryBoundedUnderHugeBodies", "rpc/server_test.go:TestServeHTTPStatus"}},
	{"server", "stalled body; slowloris headers; a client that never reads the response",
		"408 after `ReadTimeout`; closed after `ReadHeaderTimeout`; cut after `WriteTimeout`; other clients are served meanwhile",
		[]string{"rpc/server_test.go:TestStalledBodyTimesOut", "rpc/server_test.go:TestSlowlorisHeaders", "rpc/server_test.go:TestSlowReaderTimesOut"}},
	{"server", "1,000 connections held open to `rpc.Server.Serve` and to `rpcssh serve` (half with a started request)",
		"calls still succeed and the held connections stay open",
		[]string{"rpc/server_test.go:TestManyIdleConnections", "cmd/rpcssh/reliability_test.go:TestServeHoldsThousandConnections"}},
	{"server", "SIGTERM to `rpcssh serve` with 4 one-second program calls in flight",
		"the listener closes at once, every call gets its full answer, serve exits 0",
		[]string{"cmd/rpcssh/reliability_test.go:TestServeSIGTERMFinishesCallsInFlight", "rpc/server_test.go:TestServeGracefulShutdown"}},
	// Client.
	{"client", "oversized response, endless response, gzip bomb response",
		"`ErrResponseTooLarge` at `Limits.MaxBodyBytes` (the CLI's `--max-response-mib`, default 128; its hint names the flag)",
		[]string{"rpc/client_test.go:TestCallBrokenServers"}},
	{"client", "a million nested arrays, a 10,000-digit int, a billion-laughs response",
		"a decoding error (depth 128, out of range, DOCTYPE), no crash; the same client then works",
		[]string{"rpc/hostile_client_test.go:TestHostileServerAnswers"}},
	{"client", "a response that drips forever; a peer that accepts and says nothing",
		"ends with the caller's ctx (`context deadline exceeded`)",
		[]string{"rpc/hostile_client_test.go:TestHostileServerAnswers", "rpc/hostile_client_test.go:TestServerThatNeverAnswers", "cmd/rpcssh/testdata/script/timeout.txtar"}},
	{"client", "a fault with a string code, or with none",
		"a `*rpc.Fault` with code 0 and the code kept in the message (`fault 0: went wrong (faultCode \"E42\")`)",
		[]string{"rpc/hostile_client_test.go:TestHostileServerAnswers"}},
	{"client", "HTML instead of XML, 500, 502, 401, endless headers, an SSH banner",
		"`*rpc.HTTPError` (`errors.Is(err, rpc.ErrUnauthorized)` for 401), `response is text/html, not XML`, or a transport error; never a hang",
		[]string{"rpc/client_test.go:TestCallBrokenServers", "rpc/hostile_client_test.go:TestHostileServerAnswers", "rpc/hostile_client_test.go:TestServerThatNeverAnswers"}},
	{"client", "a 301/302/303/307/308 redirect to another port on the same host (which would get the call re-sent with the Basic credentials)",
		"followed by no client: `*rpc.HTTPError` naming the Location (any password in it redacted), a hint to call it with `--url` if trusted; the target gets no request",
		[]string{"rpc/client_peer_test.go:TestCallFollowsNoRedirect", "cmd/rpcssh/client_hints_test.go:TestRedirectIsNotFollowed"}},
	{"client", "a server that closes every kept-alive connection after answering, without `Connection: close` (Perl's Frontier::Daemon)",
		"a call that failed before any byte of an answer is sent once more, on a new connection, and the client stops keeping connections alive to that server; a call on a fresh connection or with part of an answer is never repeated; `bench -c 10 -n 200` has 0 errors",
		[]string{"rpc/client_peer_test.go:TestCallRetriesAConnectionClosedAfterEachAnswer", "rpc/client_peer_test.go:TestCallNeverRepeatsWhatMayHaveReachedTheServer", "cmd/rpcssh/frontier_test.go:TestBenchAgainstFrontierDaemon"}},
	// SSH.
	{"ssh", "SSH port that accepts and never speaks",
		"`rpcssh call --connect-timeout 500ms` fails within about a second: `tunnel: handshake with ...: context deadline exceeded` and a hint naming `--connect-timeout`",
		[]string{"cmd/rpcssh/reliability_test.go:TestCallHandshakeStallTimesOut", "tunnel/client_test.go:TestDialHandshakeStallBoundedByContext"}},
	{"ssh", "host key changed",
		"refused even with accept-new; the error names the new key's fingerprint and the stale `file:line`, with `ssh-keygen -R`",
		[]string{"cmd/rpcssh/testdata/script/changed_host_key.txtar", "tunnel/sshd_test.go:TestSSHDChangedHostKey"}},
	{"ssh", "sshd frozen (SIGSTOP) during a call",
		"`rpcssh call --keepalive 200ms` fails about 0.8 s later (3 keepalives unanswered), not at `--timeout`",
		[]string{"cmd/rpcssh/reliability_test.go:TestCallFrozenSSHDFailsWithinKeepalive", "tunnel/hostile_test.go:TestRPCCallOnFrozenSSHD", "tunnel/sshd_test.go:TestSSHDStoppedPeerDetectedByKeepalive"}},
	{"ssh", "sshd restarted under `rpcssh tunnel`; then the remote port closed and reopened",
		"the tunnel reconnects and the next call succeeds; calls fail at once while the port is closed, the tunnel stays up and works again after",
		[]string{"cmd/rpcssh/reliability_test.go:TestTunnelSurvivesSSHDRestartAndRemoteOutage", "tunnel/sshd_test.go:TestSSHDRedialerReconnectsAfterRestart"}},
	{"ssh", "nothing listens on the remote port",
		"`connect failed` with a hint to start `rpcssh serve`; the SSH link stays usable",
		[]string{"cmd/rpcssh/testdata/script/remote_refused.txtar", "tunnel/hostile_test.go:TestRPCCallRemotePortClosed"}},
	{"ssh", "the destination in another letter case (`LocalHost`) with a different key recorded for `localhost`, plain and hashed, under accept-new",
		"refused as a changed key, as `ssh` says in the same test (REMOTE HOST IDENTIFICATION HAS CHANGED); known_hosts is not touched; names are lowercased for lookup, accept-new lines and HostKeyAlias",
		[]string{"tunnel/resolve_sshd_test.go:TestHostNameCaseKnownHosts"}},
	{"ssh", "an ssh_config that includes itself (three times a line), and includes fanning out",
		"refused at once as ssh does (`too many recursive configuration includes`, file:line); at most 256 included files in all; the fuzz target stays fast",
		[]string{"tunnel/sshconfig_test.go:TestSSHConfigInclude", "tunnel/sshconfig_openssh_test.go:TestSSHConfigMatchesSSHG", "tunnel/sshconfig_test.go:FuzzSSHConfig"}},
	{"ssh", "a ProxyCommand that exits early; `RPCSSH_*` secrets in the environment",
		"an error naming the command and its exit status, its stderr passed through; the process is ended when the link closes; `RPCSSH_*` variables are not passed to it",
		[]string{"tunnel/resolve_sshd_test.go:TestProxyCommandEarlyExit", "tunnel/resolve_sshd_test.go:TestProxyCommandEndsWithClientAndRunsAgainOnRedial", "tunnel/proxycommand_test.go:TestProxyCommandEnvHasNoSecrets"}},
	{"ssh", "a private key file readable by others",
		"refused as ssh refuses it (`UNPROTECTED PRIVATE KEY FILE!`, the mode) with a `chmod 600` hint",
		[]string{"tunnel/resolve_test.go:TestResolveUnprotectedKey"}},
	// Also.
	{"also", "fuzzing the method-call and method-response decoders and the CLI argument parser",
		"no panic, hang or round-trip mismatch; `.ci/run` runs each target briefly",
		[]string{"rpc/fuzz_test.go:FuzzDecodeCall", "rpc/fuzz_test.go:FuzzDecodeResponse", "cmd/rpcssh/args_test.go:FuzzParseArg"}},
	{"also", "password in `RPCSSH_PASSWORD`; right and wrong passwords; passwords in URLs",
		"never in serve's command line (`ps`), its log, call's stderr, or error messages; `--password` works but warns that `ps` shows it",
		[]string{"cmd/rpcssh/reliability_test.go:TestSecretsStayOutOfPsAndLogs", "rpc/server_test.go:TestServerLogs", "rpc/client_test.go:TestErrorsHidePassword", "cmd/rpcssh/testdata/script/bad_password.txtar", "cmd/rpcssh/testdata/script/reliability_password_flag.txtar"}},
	{"also", "a world-readable `--password-file`",
		"serve refuses to start, with a `chmod 600` hint",
		[]string{"cmd/rpcssh/testdata/script/serve_refuses.txtar"}},
	// Hardening (issue 13): serve.
	{"serve", "`--password-file` a FIFO, a directory or `/dev/null`",
		"refused at once (`not a regular file (a FIFO)`): the file is opened non-blocking and checked on the open descriptor, so serve never blocks at start",
		[]string{"cmd/rpcssh/testdata/script/serve_password_fifo.txtar"}},
	{"serve", "a methods file that is group-writable (0664), or in a group-writable directory (0775), or owned by another user; a group-writable `--state-dir` or a directory above it",
		"refused at start, naming the path and the fix (`... is group-writable (mode 0664): other users could change it; fix with: chmod g-w PATH`): OpenSSH's StrictModes rule, applied to the file and every directory above it; a sticky directory such as `/tmp` is fine",
		[]string{"cmd/rpcssh/testdata/script/serve_strict_modes.txtar", "rpc/program/file_test.go:TestLoadRefusesFilesOthersCanChange", "rpc/program/file_test.go:TestLoadRefusesFilesOfOtherUsers"}},
	{"serve", "`system.multicall` of 64 x `jobs.output` of 16 MiB (an 18 KB request; 1,000 x the same); 1,000,000 empty entries",
		"serve peaks at 162 MiB and 45 MiB with the 64 MiB body limit, under 5 x the limit (the audit measured 1.28 GB and 650 MiB before): at most 1,000 calls (`--max-multicall`), counted while decoding; each result encoded as it returns and dropped; the response cut at the body limit while it is built (the result past it becomes a fault, later calls are not run)",
		[]string{"cmd/rpcssh/multicall_mem_test.go:TestServeMulticallMemoryBounded", "rpc/multicall_test.go:TestMulticallBounds"}},
	{"serve", "a method program, running as serve's user, looks for the password in its own environment (its method lists `RPCSSH_PASSWORD` in `env`), `/proc/$PPID/environ` and all of `/proc/$PPID/mem`",
		"finds nothing: serve removes the variable, wipes its bytes from the environment block the kernel shows, and makes itself non-dumpable (Linux `PR_SET_DUMPABLE` 0), so both files are `Permission denied`; root can still read serve's memory (CAP_SYS_PTRACE), so the test runs serve as `nobody` when it runs as root, and checks that root's view of `environ` no longer holds the password",
		[]string{"cmd/rpcssh/serve_guard_test.go:TestServePasswordHiddenFromPrograms"}},
	{"serve", "a descriptor opened before serve starts (a shell's `3<secret`) and read by a method program as fd 3",
		"closed in the program: serve marks every inherited descriptor above 2 close-on-exec at start (Linux `close_range(3, ~0, CLOSE_RANGE_CLOEXEC)`, a loop over `/dev/fd` elsewhere)",
		[]string{"cmd/rpcssh/serve_guard_test.go:TestServeInheritedDescriptorsNotPassedToPrograms"}},
	// Jobs (issue 13, items 4, 7 and 9).
	{"jobs", "many jobs with large output; a store full of running jobs; output quota used up",
		"finished jobs past `retention` (7 days) or beyond `max_jobs` (1,000) or `max_output` (16 GiB, counting each running or queued job's `output_cap`) are removed, oldest finished first; when that is not enough the start is a fault naming the bound, never a full disk; `jobs.list` is paged (100, at most 1,000 a page)",
		[]string{"rpc/program/retention_test.go:TestMaxJobsRemovesOldestFinished", "rpc/program/retention_test.go:TestOutputQuotaRefusesAStart", "rpc/program/retention_test.go:TestRetentionRemovesOldFinishedJobs", "rpc/program/retention_test.go:TestJobsListIsPaged"}},
	{"jobs", "a symlink (to a secret file or a FIFO), or a file of another user, planted as a job's `output` or `meta.json`",
		"job files are opened with `O_NOFOLLOW` and must be regular files owned by serve's user: `jobs.output` is a fault saying why, a job whose record is a symlink is skipped",
		[]string{"rpc/program/jobfile_unix_test.go:TestJobFilesRefuseSymlinks", "rpc/program/jobfile_unix_test.go:TestPlantedMetaSymlinkIsSkipped"}},
	{"jobs", "a job that starts a `setsid` grandchild, then is cancelled, times out, or exits; a sync method that does so and times out",
		"the job's runner is a child subreaper (Linux) and kills every process left below it: the grandchild is gone in all three cases; a sync method's timeout signals every process below the program too (the README's security section says what stays out of reach)",
		[]string{"rpc/program/descendants_linux_test.go:TestSetsidGrandchildIsKilled", "rpc/program/descendants_linux_test.go:TestSyncTimeoutKillsSetsidGrandchild"}},
}

const (
	securityTableStart = "<!-- security-table:start -->"
	securityTableEnd   = "<!-- security-table:end -->"
)

// renderSecurityTable writes the table as Markdown.
func renderSecurityTable() string {
	var b strings.Builder
	b.WriteString("| Where | What was tried | What happens | Tests |\n|---|---|---|---|\n")
	for _, c := range securityCases {
		var names []string
		for _, ref := range c.tests {
			file, name, ok := strings.Cut(ref, ":")
			if !ok {
				name = filepath.Base(file)
			}
			names = append(names, fmt.Sprintf("[`%s`](%s)", name, file))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.area, c.tried, c.result, strings.Join(names, ", "))
	}
	return b.String()
}

// TestSecurityTableUpToDate checks that every test the table names exists
// and that README.md holds the table as rendered; -update rewrites it.
func TestSecurityTableUpToDate(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, c := range securityCases {
		for _, ref := range c.tests {
			file, name, hasName := strings.Cut(ref, ":")
			src, err := os.ReadFile(filepath.Join(root, file))
			if err != nil {
				t.Errorf("%q: %v", c.tried, err)
				continue
			}
			if !hasName {
				continue // a testscript: the file is the test
			}
			fn, sub, _ := strings.Cut(name, "/")
			if !regexp.MustCompile(`(?m)^func ` + regexp.QuoteMeta(fn) + `\(`).Match(src) {
				t.Errorf("%q: no func %s in %s", c.tried, fn, file)
			}
			if sub != "" && !bytes.Contains(src, []byte(`"`+sub+`"`)) {
				t.Errorf("%q: no subtest %q in %s", c.tried, sub, file)
			}
		}
	}
	readme := filepath.Join(root, "README.md")
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i, j := strings.Index(text, securityTableStart), strings.Index(text, securityTableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %s ... %s markers", securityTableStart, securityTableEnd)
	}
	want := text[:i+len(securityTableStart)] + "\n" + renderSecurityTable() + text[j:]
	if want == text {
		return
	}
	if *updateSecurityTable {
		if err := os.WriteFile(readme, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's security table is out of date: run go test ./cmd/rpcssh -run TestSecurityTableUpToDate -update")
}
