package main

import (
	"strings"
	"testing"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// TestUpperASCIIFastPathMatchesCaser checks that ASCII input upper-cased
// by the fast path is exactly what full Unicode case mapping gives, for
// every ASCII byte and across the fast path's chunk boundaries, and that
// one non-ASCII byte anywhere sends the whole string to the Caser.
func TestUpperASCIIFastPathMatchesCaser(t *testing.T) {
	var all strings.Builder
	for c := range 0x80 {
		all.WriteByte(byte(c))
	}
	long := strings.Repeat(all.String(), 100) // 12,800 bytes: several chunks
	for _, in := range []string{"", "a", "z{`@A", all.String(), long, long[:4095], long[:4097],
		long + "ß", "ß" + long, long[:4096] + "ﬁ" + long[:10]} {
		want := cases.Upper(language.Und).String(in)
		if got := upper(in); got != want {
			t.Errorf("upper(%d bytes starting %q) differs from cases.Upper", len(in), in[:min(len(in), 8)])
		}
	}
	if got, want := upperASCII("abc xyz {}"), "ABC XYZ {}"; got != want {
		t.Errorf("upperASCII = %q, want %q", got, want)
	}
}

func BenchmarkUpper(b *testing.B) {
	s := string(cliPayload(8 << 20))
	b.SetBytes(int64(len(s)))
	for range b.N {
		upper(s)
	}
}

func BenchmarkUpperCaser(b *testing.B) {
	s := string(cliPayload(8 << 20))
	b.SetBytes(int64(len(s)))
	for range b.N {
		cases.Upper(language.Und).String(s)
	}
}
