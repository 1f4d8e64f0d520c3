package main

import (
	"io"
	"log/slog"
)

// serveLogger writes serve's log to w as logfmt lines (slog's text
// format), at level and above: debug, info, warn or error (kong has
// checked it). The format is documented in the README's "serve's log".
func serveLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
