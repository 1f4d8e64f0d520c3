package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
)

// maxHeaderBytes bounds the request line and headers; XML-RPC needs few.
const maxHeaderBytes = 64 << 10

// Serve answers XML-RPC requests on l with an http.Server with safe
// timeouts (ServerConfig.ReadHeaderTimeout, ReadTimeout, WriteTimeout,
// IdleTimeout; headers capped at 64 KiB) until ctx is done. It then shuts
// down gracefully: l is closed, idle connections are closed, and calls in
// flight finish and get their answers. If they take longer than
// ShutdownTimeout, their contexts are cancelled, their connections closed,
// and Serve returns an error wrapping context.DeadlineExceeded.
//
// Serve returns nil after a graceful shutdown, or an error if accepting on l
// fails. It always closes l. Method contexts carry ctx's values but are not
// cancelled by ctx.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	base, cancelCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// net/http's own complaints (bad TLS, accept retries, handler
		// panics) go to the Logger at debug level instead of stderr.
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext: func(net.Listener) context.Context { return base },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()

	var serveErr error // accepting failed: shut down all the same
	done := false
	select {
	case serveErr = <-errc:
		done = true
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		cancelCalls()
		_ = hs.Close()
		err = fmt.Errorf("rpc: shutdown %s: %w", l.Addr(), err)
	}
	if !done {
		serveErr = <-errc
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return errors.Join(fmt.Errorf("rpc: serve %s: %w", l.Addr(), serveErr), err)
	}
	return err
}
