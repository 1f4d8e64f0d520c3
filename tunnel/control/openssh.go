package control

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
)

// OpenSSH's multiplexing protocol (PROTOCOL.mux in openssh-portable, and
// mux.c, which is the authority where the two differ): each message is a
// uint32 length and that many bytes, starting with a uint32 type.
const (
	muxVersion         = 4
	muxHello           = 0x00000001
	muxNewStdioFwd     = 0x10000008
	muxPermDenied      = 0x80000002
	muxFailure         = 0x80000003
	muxSessionOpened   = 0x80000006
	muxPortStreamLocal = 0xfffffffe // -2: the "host" is a Unix socket path
	muxMaxPacket       = 256 << 10
)

// muxRequest is the MUX_C_NEW_STDIO_FWD request for network/addr: uint32
// type, uint32 request id, string reserved, string host, uint32 port.
// PROTOCOL.mux says "string" for the port; mux.c reads a uint32.
func muxRequest(id uint32, network, addr string) ([]byte, error) {
	var host string
	var port uint32
	switch network {
	case "unix":
		if addr == "" {
			return nil, errors.New("control: empty unix socket path")
		}
		host, port = addr, muxPortStreamLocal
	case "tcp", "tcp4", "tcp6":
		h, p, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("control: %w", err)
		}
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("control: port %q: not 1-65535", p)
		}
		host, port = h, uint32(n)
	default:
		return nil, fmt.Errorf("control: network %q: want tcp or unix", network)
	}
	b := binary.BigEndian.AppendUint32(nil, muxNewStdioFwd)
	b = binary.BigEndian.AppendUint32(b, id)
	b = appendString(b, "")
	b = appendString(b, host)
	b = binary.BigEndian.AppendUint32(b, port)
	return b, nil
}

func muxHelloMsg() []byte {
	b := binary.BigEndian.AppendUint32(nil, muxHello)
	return binary.BigEndian.AppendUint32(b, muxVersion)
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func writePacket(w io.Writer, body []byte) error {
	_, err := w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...))
	return err
}

func readPacket(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 4 || n > muxMaxPacket {
		return nil, fmt.Errorf("control: mux packet of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
}

// checkHello accepts the master's MUX_MSG_HELLO of version 4 (extensions,
// if any, are ignored as mux.c does).
func checkHello(body []byte) error {
	if len(body) < 8 || binary.BigEndian.Uint32(body) != muxHello {
		return errors.New("control: not an OpenSSH mux master (no hello)")
	}
	if v := binary.BigEndian.Uint32(body[4:]); v != muxVersion {
		return fmt.Errorf("control: OpenSSH mux version %d, want %d", v, muxVersion)
	}
	return nil
}

// parseStdioReply reads the answer to request id: nil for
// MUX_S_SESSION_OPENED, the master's reason for a failure or denial.
func parseStdioReply(body []byte, id uint32) (opened bool, reason string, err error) {
	if len(body) < 8 {
		return false, "", errors.New("control: short mux reply")
	}
	typ, rid := binary.BigEndian.Uint32(body), binary.BigEndian.Uint32(body[4:])
	if rid != id {
		return false, "", fmt.Errorf("control: mux reply for request %d, want %d", rid, id)
	}
	switch typ {
	case muxSessionOpened:
		return true, "", nil
	case muxFailure, muxPermDenied:
		rest := body[8:]
		if len(rest) >= 4 {
			n := binary.BigEndian.Uint32(rest)
			if int(n) <= len(rest)-4 {
				return false, string(rest[4 : 4+n]), nil
			}
		}
		return false, "refused", nil
	}
	return false, "", fmt.Errorf("control: unexpected mux reply type %#x", typ)
}
