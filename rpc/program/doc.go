// Package program serves programs declared in a TOML methods file as
// XML-RPC methods, synchronously or as jobs that outlive the call.
//
// # The methods file
//
//	[[method]]
//	name = "sim.run"                  # letters, digits, _ . : /; not system.* or jobs.*
//	help = "Run the simulation."
//	argv = ["/opt/sim/bin/sim", "--steps={steps}", "--mode", "{mode}", "--", "{input}"]
//	dir = "/srv/sim"                  # working directory; relative: from the file's directory (the default)
//	env = ["PATH", "HOME", "LANG"]    # passed through from serve's environment, if set there
//	setenv = { OMP_NUM_THREADS = "4" } # fixed values; nothing else is inherited
//	timeout = "10m"                   # default 1m for sync methods, none for async; "0s": none
//	kill_grace = "5s"                 # SIGTERM, then SIGKILL this much later (default 5s)
//	output_cap = "4MiB"               # or bytes; default 1 MiB per stream (sync), 64 MiB (async)
//	max_concurrent = 2                # default 4
//	max_queued = 10                   # async: jobs waiting beyond max_concurrent (default 100)
//	async = true                      # returns a job id at once
//
//	[[method.param]]
//	name = "steps"
//	type = "int"      # int i8 double boolean string base64 dateTime.iso8601 array struct
//	min = 1
//	max = 1_000_000
//	default = 100     # a param without a default is required
//	help = "Number of steps."
//
//	[[method.param]]
//	name = "mode"
//	type = "string"
//	enum = ["fast", "exact"]
//	default = "fast"
//
//	[[method.param]]
//	name = "input"
//	type = "string"
//	allow_leading_dash = false  # the default
//
// Load checks the file when serve starts: unknown keys, types, names,
// ranges, defaults against enum/min/max, and that every param is used in
// argv and every placeholder names a param. Its errors are *ConfigError,
// naming the line. A file (or its directory) that other users could
// change is refused.
//
// # Arguments
//
// The program is started with execve, never through a shell. Each argv
// element becomes exactly one argument: a literal, or a literal prefix,
// one {param} and a literal suffix ("--steps={steps}"); write {{ and }}
// for literal braces. So nothing a caller sends can add an argument: a
// value with spaces, quotes, ";", newlines or "$(...)" arrives as one
// literal argument. A NUL byte cannot be in an argument and is refused.
//
// A value that starts an argument (the placeholder has no prefix) could
// still be read by the program as an option, "--force" say. Such values
// are refused with a fault unless the param sets allow_leading_dash =
// true; method authors should also put "--" before positional
// placeholders where the program supports it. Negative numbers need
// allow_leading_dash too.
//
// Values become text as: int and i8 in decimal; double in the shortest
// form that reads back the same (Go's 'g': 0.25, 1e+21); boolean
// true/false; string as is; base64 as its raw bytes; dateTime.iso8601 in
// RFC 3339 UTC; array and struct as one JSON argument. enum values are
// compared in this text form; min and max apply to numbers.
//
// # Calls
//
// A call gives params positionally, or as one struct of named params:
// sim.run(100, "exact") or sim.run({"steps": 100, "mode": "exact"}). A
// method whose only param is a struct takes the single struct
// positionally. Missing params take their default. A bad param is a
// fault with rpc.CodeInvalidParams.
//
// A sync method answers {exit_code, stdout, stderr, truncated,
// duration_s}. A non-zero exit is a result; a program killed by signal N
// has exit_code 128+N. stdout and stderr are strings when XML can carry
// them as text (valid UTF-8, no control characters other than tab,
// newline and carriage return), otherwise base64 of the raw bytes: check
// the type. Each is cut at output_cap (truncated is then true), and the
// rest is read and discarded so the program never blocks on a full pipe.
// A timeout, a program or working directory that does not exist, or a
// failure to start is a fault with rpc.CodeApplication. The caller going
// away stops the program as a timeout does.
//
// Calls beyond max_concurrent wait for a free slot for as long as the
// caller waits (its request context); async calls beyond it are queued
// (see Jobs).
//
// On Unix the program runs in a process group of its own: a timeout or
// cancel sends SIGTERM to the whole group and SIGKILL kill_grace later,
// and whatever the program leaves in its group when it exits is killed.
// Elsewhere only the program itself is killed.
//
// The program is found through serve's PATH when argv[0] has no slash; a
// relative argv[0] with a slash ("./bin/sim") is taken from the methods
// file's directory, whatever dir says. File.CheckPrograms, which serve
// runs at start, reports a program that does not exist or is not
// executable, naming the line.
//
// # Jobs
//
// An async method starts the program and returns a job id. The job does
// not run under the Host: Config.RunnerCommand starts a runner process
// for it (the rpcssh CLI re-executes itself as "rpcssh __job-runner DIR",
// whose body is RunRunner), in a session of its own and with an empty
// environment. The runner starts the program, writes its stdout and
// stderr, interleaved as written, to the job's output file (capped at
// output_cap), waits for it and records its exit code and end time. So a
// job survives the caller, the SSH link, and the Host itself: Close (serve
// stopping, by any signal, or crashing) leaves it running, and the next
// Host on the same state directory adopts it. With
// Config.CancelJobsOnClose, Close cancels the jobs instead.
//
// The built-in methods are jobs.status(id), jobs.output(id, offset[,
// max_bytes]) → {data, next_offset, done, state, truncated},
// jobs.wait(id, timeout_s), jobs.cancel(id) and jobs.list([offset[,
// limit]]) (paged, oldest first).
//
// States: queued, running, exited, timeout, cancelled, failed (a queued
// job that could not start) and lost (its runner vanished without
// recording an end: killed, or the host rebooted). A runner is known by
// its pid, start time and boot id, never by pid alone.
//
// A start beyond max_concurrent is queued, up to max_queued per method
// (default 100; past it the start is a fault), and started in order when
// a slot frees; queued jobs survive a restart. A start whose request
// carries an Idempotency-Key header (IdempotencyHeader) that the store
// holds returns that job's id instead of starting another.
//
// jobs.cancel and a timeout send SIGTERM to the program's process group
// and SIGKILL kill_grace later. On Linux the runner is a child subreaper:
// when the program has ended it kills every process left below it,
// including those that left the group (setsid).
//
// The state directory (mode 0700) holds jobs/<id>/ with meta.json (the
// Host's record), spec.json (a queued job's argv), runner.json and
// exit.json (the runner's), a cancel request and the output. Records are
// written atomically (temp file, fsync, rename); every job file is opened
// with O_NOFOLLOW and must be a regular file owned by the Host's user.
//
// The store is bounded (JobLimits, the methods file's [jobs] table):
//
//	[jobs]
//	max_jobs = 1000       # stored jobs, any state
//	max_output = "16GiB"  # finished jobs' output + output_cap of each running or queued one
//	retention = "7d"      # how long a finished job is kept
//
// Finished jobs past retention, or needed to make room, are removed
// oldest first; a start that still does not fit is a fault.
package program
