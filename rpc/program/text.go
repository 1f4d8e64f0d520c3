package program

import (
	"unicode/utf8"
	"unsafe"
)

// outputValue is how program output goes back to the caller: a string
// when XML can carry it as text (valid UTF-8 without control characters
// other than tab, newline and carriage return), otherwise []byte, which
// is sent as base64. Clients check the type.
//
// The string shares b's memory, so that output is never held twice: b
// must not be changed afterwards (callers pass a buffer of their own that
// they drop).
func outputValue(b []byte) any {
	if xmlText(b) {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return b
}

func xmlText(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		ok := r == '\t' || r == '\n' || r == '\r' ||
			r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
		if !ok {
			return false
		}
		b = b[n:]
	}
	return true
}

// cutRune shortens b by at most 3 bytes so that it does not end inside a
// UTF-8 sequence that may continue beyond it.
func cutRune(b []byte) []byte {
	for i := 1; i <= 3 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < 0x80 {
			return b // ASCII: complete
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}
