package control

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"time"
)

// The control protocol: the requester sends one JSON object on a line,
// the master answers with one. After a successful "open" answer the
// socket carries the stream's bytes both ways.
const (
	opOpen   = "open"   // open a channel to network/addr and splice it
	opStatus = "status" // describe the master
	opStop   = "stop"   // stop accepting, finish open streams, exit
	opWatch  = "watch"  // hold the connection until the master stops
)

type request struct {
	Op      string `json:"op"`
	Network string `json:"network,omitempty"`
	Addr    string `json:"addr,omitempty"`
}

type reply struct {
	// Error is empty on success.
	Error string `json:"error,omitempty"`
	// Lost is set with Error when the master's own link is gone: the
	// requester should dial the host itself.
	Lost   bool    `json:"lost,omitempty"`
	Status *Status `json:"status,omitempty"`
}

// Status describes a live master.
type Status struct {
	PID      int           `json:"pid"`
	Path     string        `json:"path"`
	Identity Identity      `json:"identity"`
	Started  time.Time     `json:"started"`
	Idle     time.Duration `json:"idle"`    // ControlPersist; negative: forever
	Streams  int           `json:"streams"` // open now
	Opened   int64         `json:"opened"`  // since start
}

// maxLine bounds a protocol line, so a peer cannot make the other side
// buffer without limit.
const maxLine = 64 << 10

var errLongLine = errors.New("control: protocol line too long")

func writeLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func readLine(r *bufio.Reader, v any) error {
	var line []byte
	for {
		part, isPrefix, err := r.ReadLine()
		if err != nil {
			return err
		}
		line = append(line, part...)
		if len(line) > maxLine {
			return errLongLine
		}
		if !isPrefix {
			break
		}
	}
	return json.Unmarshal(line, v)
}
