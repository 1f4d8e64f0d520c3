package main

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel/install"
)

// watchVersions makes every call of a command under ctx compare the
// server's version with this one's (versionWarner), at no extra round
// trip: serve tells it in each answer's Server header.
func watchVersions(ctx context.Context, e *env) context.Context {
	return rpc.WithResponseHeader(ctx, versionWarner(e))
}

// serverSoftware is the Server header of serve's answers: its version,
// told with every call (rpc.ServerConfig.Software).
func serverSoftware() string { return "rpcssh/" + version() }

// versionWarner is the rpc.WithResponseHeader function of every command:
// when a server's rpcssh differs from this one in a way that matters
// (install.Mismatch: another major or minor release), it prints one
// warning on stderr, once per server version in this process.
func versionWarner(e *env) func(http.Header) {
	mine := version()
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(h http.Header) {
		v, ok := strings.CutPrefix(h.Get("Server"), "rpcssh/")
		if !ok || v == mine {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[v] || len(seen) >= 16 {
			return
		}
		seen[v] = true
		if why := install.Mismatch(mine, v); why != "" {
			e.warnf("%s", why)
			e.hintf("'rpcssh install DEST' puts this rpcssh (%s) on the host; 'rpcssh status DEST' shows both versions", mine)
		}
	}
}
