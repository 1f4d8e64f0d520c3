package rpc

import (
	"encoding/base64"
	"strconv"
	"time"
)

// Parsers for the text of scalar values. Each returns a CodeInvalidParams
// codec error naming the type and (a prefix of) the text.

func quoteShort(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "..."
	}
	return strconv.Quote(string(b))
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpaceByte(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpaceByte(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// parseInt reads a decimal integer of any of the int types into an int64.
func parseInt(typ string, text []byte) (int64, error) {
	b := trimSpace(text)
	digits := b
	if len(digits) > 0 && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return 0, valueErr("invalid " + typ + " " + quoteShort(text))
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, valueErr("invalid " + typ + " " + quoteShort(text))
		}
	}
	if len(digits) > 40 {
		return 0, valueErr(typ + " " + quoteShort(b) + " (" + strconv.Itoa(len(digits)) + " digits) out of range")
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, valueErr(typ + " " + quoteShort(b) + " out of range")
	}
	// <int>/<i4> wider than 32 bits are accepted: kolo and Python send them.
	return n, nil
}

func parseBool(text []byte) (bool, error) {
	switch string(trimSpace(text)) {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, valueErr("invalid boolean " + quoteShort(text))
}

func parseDouble(text []byte) (float64, error) {
	b := trimSpace(text)
	if len(b) == 0 {
		return 0, valueErr("invalid double " + quoteShort(text))
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, valueErr("invalid double " + quoteShort(text))
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, valueErr("invalid double " + quoteShort(text))
	}
	return f, nil
}

func parseBase64(text []byte) ([]byte, error) {
	clean := make([]byte, 0, len(text))
	for _, c := range text {
		if !isSpaceByte(c) {
			clean = append(clean, c)
		}
	}
	enc := base64.StdEncoding
	if len(clean)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	out := make([]byte, enc.DecodedLen(len(clean)))
	n, err := enc.Decode(out, clean)
	if err != nil {
		return nil, valueErr("invalid base64: " + err.Error())
	}
	return out[:n], nil
}

// parseDateTime reads the layouts real servers send: 20060102T15:04:05,
// 2006-01-02T15:04:05, 20060102T150405, each with optional fractional seconds
// and an optional zone (Z, ±hh:mm, ±hhmm, ±hh). No zone means UTC.
func parseDateTime(text []byte) (time.Time, error) {
	b := trimSpace(text)
	bad := func() (time.Time, error) {
		return time.Time{}, valueErr("invalid dateTime.iso8601 " + quoteShort(text))
	}
	p := 0
	num := func(n int) (int, bool) {
		if p+n > len(b) {
			return 0, false
		}
		v := 0
		for _, c := range b[p : p+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		p += n
		return v, true
	}
	sep := func(c byte) bool {
		if p < len(b) && b[p] == c {
			p++
			return true
		}
		return false
	}
	year, ok := num(4)
	if !ok {
		return bad()
	}
	dash := sep('-')
	month, ok := num(2)
	if !ok || dash && !sep('-') {
		return bad()
	}
	day, ok := num(2)
	if !ok || !sep('T') {
		return bad()
	}
	hour, ok := num(2)
	if !ok {
		return bad()
	}
	colon := sep(':')
	minute, ok := num(2)
	if !ok || colon && !sep(':') {
		return bad()
	}
	sec, ok := num(2)
	if !ok {
		return bad()
	}
	nsec := 0
	if sep('.') {
		start := p
		scale := 100000000
		for p < len(b) && b[p] >= '0' && b[p] <= '9' {
			nsec += int(b[p]-'0') * scale
			scale /= 10
			p++
		}
		if p == start {
			return bad()
		}
	}
	loc := time.UTC
	if p < len(b) {
		switch c := b[p]; c {
		case 'Z':
			p++
		case '+', '-':
			p++
			hh, ok := num(2)
			if !ok {
				return bad()
			}
			mm := 0
			if p < len(b) {
				sep(':')
				if mm, ok = num(2); !ok {
					return bad()
				}
			}
			off := (hh*60 + mm) * 60
			if hh > 23 || mm > 59 {
				return bad()
			}
			if c == '-' {
				off = -off
			}
			if off != 0 {
				loc = time.FixedZone("", off)
			}
		default:
			return bad()
		}
	}
	if p != len(b) || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return bad()
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day {
		return bad()
	}
	return t, nil
}
