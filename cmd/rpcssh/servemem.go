package main

import "runtime/debug"

// setMemoryLimit gives the garbage collector a soft limit of four body
// limits plus 64 MiB, unless GOMEMLIMIT sets one: a request within the
// limits holds at most about three body limits alive (the body, a
// method's result, the response), and without a limit the collector lets
// the heap reach twice what was alive, which is how a large call used to
// peak at several times its size. It is soft: serve slows down in
// collection before it would fail.
func setMemoryLimit(e *env, maxBody int64) {
	if e.getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(4*maxBody + 64<<20)
}

// collectAfterBytes is serve's rpc.ServerConfig.CollectAfterBytes: after
// a request body this large, a collection frees it and its call's
// strings, so the next large call reuses that memory. Without it a run of
// 64 MiB echoes peaked at 4.3 times the payload, with it at about 2.3.
const collectAfterBytes = 4 << 20
