package control

import (
	"bytes"
	"testing"
)

func TestMuxRequestEncoding(t *testing.T) {
	tests := []struct {
		network, addr string
		want          []byte
		wantErr       bool
	}{
		{"tcp", "127.0.0.1:8000", []byte{
			0x10, 0, 0, 0x08, // MUX_C_NEW_STDIO_FWD
			0, 0, 0, 7, // request id
			0, 0, 0, 0, // reserved ""
			0, 0, 0, 9, '1', '2', '7', '.', '0', '.', '0', '.', '1',
			0, 0, 0x1f, 0x40, // port 8000 as a uint32, as mux.c reads it
		}, false},
		{"unix", "/run/x.sock", []byte{
			0x10, 0, 0, 0x08,
			0, 0, 0, 7,
			0, 0, 0, 0,
			0, 0, 0, 11, '/', 'r', 'u', 'n', '/', 'x', '.', 's', 'o', 'c', 'k',
			0xff, 0xff, 0xff, 0xfe, // PORT_STREAMLOCAL, -2
		}, false},
		{"tcp", "host:0", nil, true},
		{"tcp", "host", nil, true},
		{"udp", "host:53", nil, true},
		{"unix", "", nil, true},
	}
	for _, tt := range tests {
		got, err := muxRequest(7, tt.network, tt.addr)
		if (err != nil) != tt.wantErr {
			t.Errorf("muxRequest(%s %q) error = %v, want error %t", tt.network, tt.addr, err, tt.wantErr)
			continue
		}
		if !bytes.Equal(got, tt.want) {
			t.Errorf("muxRequest(%s %q) =\n% x\nwant\n% x", tt.network, tt.addr, got, tt.want)
		}
	}
}

func TestParseStdioReply(t *testing.T) {
	tests := []struct {
		name       string
		body       []byte
		wantOpen   bool
		wantReason string
		wantErr    bool
	}{
		{"opened", []byte{0x80, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0, 3}, true, "", false},
		{"failure", []byte{0x80, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 'n', 'o'}, false, "no", false},
		{"denied", []byte{0x80, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 'x'}, false, "x", false},
		{"other request", []byte{0x80, 0, 0, 6, 0, 0, 0, 2, 0, 0, 0, 3}, false, "", true},
		{"unknown type", []byte{0x80, 0, 0, 9, 0, 0, 0, 1}, false, "", true},
		{"short", []byte{0x80, 0, 0}, false, "", true},
		{"reason overruns", []byte{0x80, 0, 0, 3, 0, 0, 0, 1, 0, 0, 9, 0}, false, "refused", false},
	}
	for _, tt := range tests {
		open, reason, err := parseStdioReply(tt.body, 1)
		if open != tt.wantOpen || reason != tt.wantReason || (err != nil) != tt.wantErr {
			t.Errorf("%s: got (%t, %q, %v), want (%t, %q, error %t)", tt.name, open, reason, err, tt.wantOpen, tt.wantReason, tt.wantErr)
		}
	}
}
