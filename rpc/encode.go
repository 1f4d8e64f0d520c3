package rpc

import (
	"bytes"
	"encoding/base64"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// I8 is an int64 that is always encoded as <i8>, for callers that want to
// force it (other integers go out as <int> when they fit in 32 bits).
type I8 int64

// encoder writes XML-RPC straight into a buffer that is flushed to w in
// chunks; long strings go to w without being copied into the buffer.
// Escaping is hand-rolled: & < > are escaped, \r becomes &#xD; so that it
// survives XML line-end normalization, and characters XML 1.0 cannot carry
// at all (controls other than \t \n \r, U+FFFE, U+FFFF, invalid UTF-8) make
// the encode fail with an error naming the path of the value.
type encoder struct {
	w      io.Writer
	buf    []byte
	err    error // first write error
	depth  int
	fields fieldCache
}

const (
	encBufSize    = 32 << 10 // the buffer grows up to this, then is flushed when full
	encBufInitial = 512      // most documents are small: start here
	maxEncDepth   = 1000     // catches cyclic data; peers refuse far less anyway
)

func newEncoder(w io.Writer) *encoder {
	return &encoder{w: w, buf: make([]byte, 0, encBufInitial)}
}

func (e *encoder) flush() error {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
	return e.err
}

// reserve makes room for n more bytes in buf (n <= encBufSize): it grows
// buf up to encBufSize, and past that flushes it.
func (e *encoder) reserve(n int) {
	if len(e.buf)+n <= cap(e.buf) {
		return
	}
	if cap(e.buf) < encBufSize {
		e.buf = slices.Grow(e.buf, min(max(2*cap(e.buf), len(e.buf)+n), encBufSize)-len(e.buf))
		if len(e.buf)+n <= cap(e.buf) {
			return
		}
	}
	e.flush()
}

// raw writes markup (short).
func (e *encoder) raw(s string) {
	e.reserve(len(s))
	e.buf = append(e.buf, s...)
}

// emit writes a run of text that needs no escaping; long runs go straight to w.
func (e *encoder) emit(s string) {
	if len(s) < 4096 {
		e.reserve(len(s))
		e.buf = append(e.buf, s...)
		return
	}
	if e.flush() == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}

func encodeErr(msg string) error {
	return &codecError{code: CodeInternal, msg: msg}
}

// escape writes s as XML character data.
func (e *encoder) escape(s string) error {
	last, i := 0, 0
	for i < len(s) {
		// Skip 8 plain bytes at a time: ASCII >= 0x20 and none of & < >.
		for i+8 <= len(s) {
			x := load64(s, i)
			if x&hi8 != 0 || (x-lo8*0x20)&^x&hi8 != 0 ||
				hasZero(x^(lo8*'<')) || hasZero(x^(lo8*'>')) || hasZero(x^(lo8*'&')) {
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		var rep string
		switch {
		case c == '<':
			rep = "&lt;"
		case c == '>':
			rep = "&gt;"
		case c == '&':
			rep = "&amp;"
		case c == '\r':
			rep = "&#xD;"
		case c >= 0x20 && c < 0x80 || c == '\t' || c == '\n':
			i++
			continue
		case c < 0x20:
			return encodeErr("character U+" + strconv.FormatInt(int64(c), 16) + " at byte " + strconv.Itoa(i) + " cannot be carried by XML")
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return encodeErr("invalid UTF-8 at byte " + strconv.Itoa(i))
			}
			if r == 0xFFFE || r == 0xFFFF {
				return encodeErr("character " + strconv.QuoteRune(r) + " at byte " + strconv.Itoa(i) + " cannot be carried by XML")
			}
			i += size
			continue
		}
		e.emit(s[last:i])
		e.raw(rep)
		i++
		last = i
	}
	e.emit(s[last:])
	return nil
}

// escapeLossy is escape for fault messages, which must always go out:
// characters XML cannot carry become U+FFFD.
func (e *encoder) escapeLossy(s string) {
	clean := utf8.ValidString(s)
	for _, r := range s {
		if !xmlChar(r) || r == 0xFFFE || r == 0xFFFF {
			clean = false
			break
		}
	}
	if !clean {
		b := make([]rune, 0, len(s))
		for _, r := range s {
			if !xmlChar(r) || r == 0xFFFE || r == 0xFFFF {
				r = utf8.RuneError
			}
			b = append(b, r)
		}
		s = string(b)
	}
	_ = e.escape(s) // cannot fail: s holds only characters XML carries
}

func hasZero(x uint64) bool { return (x-lo8)&^x&hi8 != 0 }

// load64 reads 8 bytes of s at i, little-endian (compiled to one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// value writes <value>...</value> for v.
func (e *encoder) value(v reflect.Value) error {
	if ev := encodedOf(v); ev != nil {
		return e.encoded(ev)
	}
	e.raw("<value>")
	if err := e.inner(v); err != nil {
		return err
	}
	e.raw("</value>")
	return nil
}

func (e *encoder) inner(v reflect.Value) error {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			e.raw("<nil/>")
			return nil
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		e.raw("<nil/>")
		return nil
	}
	t := v.Type()
	switch t {
	case timeType:
		return e.time(v.Interface().(time.Time))
	case i8Type:
		e.raw("<i8>")
		e.reserve(24)
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
		e.raw("</i8>")
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		e.raw("<string>")
		if err := e.escape(v.String()); err != nil {
			return err
		}
		e.raw("</string>")
	case reflect.Bool:
		if v.Bool() {
			e.raw("<boolean>1</boolean>")
		} else {
			e.raw("<boolean>0</boolean>")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := v.Uint()
		if u > math.MaxInt64 {
			return encodeErr(strconv.FormatUint(u, 10) + " does not fit in i8")
		}
		e.int(int64(u))
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return encodeErr("double " + strconv.FormatFloat(f, 'g', -1, 64) + " has no XML-RPC form")
		}
		e.raw("<double>")
		e.reserve(400) // 'f' format of a float64 is at most ~330 bytes
		bits := 64
		if v.Kind() == reflect.Float32 {
			bits = 32
		}
		e.buf = strconv.AppendFloat(e.buf, f, 'f', -1, bits)
		e.raw("</double>")
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return e.base64(v.Bytes())
		}
		return e.array(v)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			return e.base64(b)
		}
		return e.array(v)
	case reflect.Map:
		return e.mapStruct(v)
	case reflect.Struct:
		return e.strct(v)
	default:
		return encodeErr("type " + t.String() + " has no XML-RPC form")
	}
	return nil
}

func (e *encoder) int(n int64) {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		e.raw("<int>")
		e.reserve(24)
		e.buf = strconv.AppendInt(e.buf, n, 10)
		e.raw("</int>")
		return
	}
	e.raw("<i8>")
	e.reserve(24)
	e.buf = strconv.AppendInt(e.buf, n, 10)
	e.raw("</i8>")
}

func (e *encoder) time(t time.Time) error {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return encodeErr("year " + strconv.Itoa(y) + " has no dateTime.iso8601 form")
	}
	e.raw("<dateTime.iso8601>")
	e.reserve(24)
	e.buf = t.AppendFormat(e.buf, "20060102T15:04:05")
	e.raw("</dateTime.iso8601>")
	return nil
}

func (e *encoder) base64(b []byte) error {
	e.raw("<base64>")
	const chunk = 3 * 1024
	for len(b) > 0 {
		n := min(len(b), chunk)
		e.reserve(base64.StdEncoding.EncodedLen(n))
		e.buf = base64.StdEncoding.AppendEncode(e.buf, b[:n])
		b = b[n:]
	}
	e.raw("</base64>")
	return nil
}

func (e *encoder) enter() error {
	if e.depth >= maxEncDepth {
		return encodeErr("values nested deeper than " + strconv.Itoa(maxEncDepth) + " levels (cyclic data?)")
	}
	e.depth++
	return nil
}

func (e *encoder) array(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.raw("<array><data>")
	for i := range v.Len() {
		if err := e.value(v.Index(i)); err != nil {
			return atPath(err, "element "+strconv.Itoa(i))
		}
	}
	e.raw("</data></array>")
	e.depth--
	return nil
}

func (e *encoder) member(name string, v reflect.Value) error {
	e.raw("<member><name>")
	if err := e.escape(name); err != nil {
		return atPath(err, "member name "+strconv.Quote(name))
	}
	e.raw("</name>")
	if err := e.value(v); err != nil {
		return atPath(err, "member "+strconv.Quote(name))
	}
	e.raw("</member>")
	return nil
}

// mapStruct writes a map with string keys as a struct, members sorted by key.
func (e *encoder) mapStruct(v reflect.Value) error {
	if v.Type().Key().Kind() != reflect.String {
		return encodeErr("map key type " + v.Type().Key().String() + " is not a string kind")
	}
	if err := e.enter(); err != nil {
		return err
	}
	type kv struct {
		k string
		v reflect.Value
	}
	kvs := make([]kv, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		kvs = append(kvs, kv{it.Key().String(), it.Value()})
	}
	slices.SortFunc(kvs, func(a, b kv) int {
		switch {
		case a.k < b.k:
			return -1
		case a.k > b.k:
			return 1
		}
		return 0
	})
	e.raw("<struct>")
	for _, m := range kvs {
		if err := e.member(m.k, m.v); err != nil {
			return err
		}
	}
	e.raw("</struct>")
	e.depth--
	return nil
}

func (e *encoder) strct(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.raw("<struct>")
	for _, f := range e.fields.info(v.Type()).fields {
		fv := fieldByIndex(v, f.index)
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		if err := e.member(f.name, fv); err != nil {
			return err
		}
	}
	e.raw("</struct>")
	e.depth--
	return nil
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.Array, reflect.String:
		return v.Len() == 0
	}
	return v.IsZero()
}

// spillBuffer receives an encoded document. It appends it to buf; once that
// would take buf past max bytes (max > 0), it only counts the bytes, and the
// writer of the document leaves in replay how to encode the same document
// again (now known to encode without error, n bytes long), so that it can
// be streamed instead of held in memory.
type spillBuffer struct {
	buf    *bytes.Buffer
	mark   int // buf.Len() before the document
	max    int
	n      int64 // bytes of the document so far
	replay func(io.Writer) error
}

func (o *spillBuffer) Write(p []byte) (int, error) {
	o.n += int64(len(p))
	if o.spilled() {
		o.buf.Truncate(o.mark) // only counting now
		return len(p), nil
	}
	return o.buf.Write(p)
}

// WriteString spares the encoder's long strings a conversion to []byte.
func (o *spillBuffer) WriteString(p string) (int, error) {
	o.n += int64(len(p))
	if o.spilled() {
		o.buf.Truncate(o.mark)
		return len(p), nil
	}
	return o.buf.WriteString(p)
}

// spilled reports whether the document outgrew max.
func (o *spillBuffer) spilled() bool { return o.max > 0 && o.n > int64(o.max) }

// reset drops what was written, for another document to take its place.
func (o *spillBuffer) reset() {
	o.buf.Truncate(o.mark)
	o.n = 0
}

// chunkedWriter hands long strings to w in chunks of a small buffer:
// io.WriteString would pass a long string to an http.ResponseWriter in
// 2 KiB pieces, and to a gzip.Writer as one copy of all of it.
type chunkedWriter struct {
	w   io.Writer
	buf []byte
}

func (c *chunkedWriter) Write(p []byte) (int, error) { return c.w.Write(p) }

func (c *chunkedWriter) WriteString(s string) (int, error) {
	if c.buf == nil {
		c.buf = make([]byte, 64<<10)
	}
	n := 0
	for len(s) > 0 {
		k := copy(c.buf, s)
		m, err := c.w.Write(c.buf[:k])
		n += m
		if err != nil {
			return n, err
		}
		s = s[k:]
	}
	return n, nil
}

const xmlHeader = "<?xml version=\"1.0\"?>\n"

// writeCall writes a complete <methodCall>; each params element is one param.
// On an error the output may be partial: callers encode into a buffer.
func writeCall(w io.Writer, method string, params []any) error {
	e := newEncoder(w)
	e.raw(xmlHeader + "<methodCall><methodName>")
	if err := e.escape(method); err != nil {
		return atPath(err, "method name")
	}
	e.raw("</methodName><params>")
	for i, p := range params {
		e.raw("<param>")
		if err := e.value(reflect.ValueOf(&p).Elem()); err != nil {
			return atPath(err, "param "+strconv.Itoa(i+1))
		}
		e.raw("</param>")
	}
	e.raw("</params></methodCall>\n")
	return e.flush()
}

// writeResponse writes a complete <methodResponse> with one param.
func writeResponse(w io.Writer, result any) error {
	e := newEncoder(w)
	e.raw(xmlHeader + "<methodResponse><params><param>")
	if err := e.value(reflect.ValueOf(&result).Elem()); err != nil {
		return atPath(err, "result")
	}
	e.raw("</param></params></methodResponse>\n")
	return e.flush()
}

// writeFault writes a complete fault <methodResponse>. It fails only if w does.
func writeFault(w io.Writer, f *Fault) error {
	if f == nil {
		f = &Fault{Code: CodeInternal, Message: "internal error"}
	}
	e := newEncoder(w)
	e.raw(xmlHeader + "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>")
	e.reserve(24)
	e.buf = strconv.AppendInt(e.buf, int64(f.Code), 10)
	e.raw("</int></value></member><member><name>faultString</name><value><string>")
	e.escapeLossy(f.Message)
	e.raw("</string></value></member></struct></value></fault></methodResponse>\n")
	return e.flush()
}
