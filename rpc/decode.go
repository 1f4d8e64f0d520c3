package rpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// decoder reads one XML-RPC document (methodCall or methodResponse) from a
// scanner, decoding values straight into Go values by reflection (like
// encoding/json) or into natural values (see the package doc).
type decoder struct {
	s      *scanner
	lim    Limits
	depth  int
	fields fieldCache
	names  map[string]string // interned member names
}

// newDecoder returns a decoder reading r. size is r's length if known
// (Content-Length), else -1; it only sizes buffers.
func newDecoder(r io.Reader, size int64, lim Limits) *decoder {
	lim = lim.withDefaults()
	if b, ok := r.(*bytes.Buffer); ok && int64(b.Len()) <= lim.MaxBodyBytes {
		// The whole body is in memory: scan it in place (it is consumed,
		// as a Read would, and never written to).
		return newBytesDecoder(b.Next(b.Len()), false, lim)
	}
	return &decoder{s: newScanner(&limitReader{r: r, n: lim.MaxBodyBytes}, min(size, lim.MaxBodyBytes)), lim: lim}
}

// newBytesDecoder returns a decoder of the document in body, scanned in
// place. owned means the caller hands body over for good: it never writes
// or reuses it, so long strings may be decoded without a copy, as views of
// body (which then lives as long as they do); the decoder may also
// normalize line ends in place.
func newBytesDecoder(body []byte, owned bool, lim Limits) *decoder {
	lim = lim.withDefaults()
	s := newScanner(nil, int64(len(body)))
	s.buf, s.owned = body, owned
	s.end, s.rerr = len(body), io.EOF
	return &decoder{s: s, lim: lim}
}

// limitReader fails with err (errTooLarge when nil) once more than n bytes
// were read.
type limitReader struct {
	r   io.Reader
	n   int64
	err error
}

var errTooLarge = errors.New("body larger than Limits.MaxBodyBytes")

func (l *limitReader) Read(p []byte) (int, error) {
	tooLarge := l.err
	if tooLarge == nil {
		tooLarge = errTooLarge
	}
	if l.n < 0 {
		return 0, tooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return n, tooLarge
	}
	return n, err
}

type xtype uint8

const (
	xNil xtype = iota + 1
	xInt
	xBool
	xString
	xDouble
	xTime
	xBase64
	xArray
	xStruct
)

// typeOf maps a value element name (namespace prefix stripped, as Python
// does for ex:nil and ex:i8) to its type and canonical name.
func typeOf(name []byte) (xtype, string, bool) {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == ':' {
			name = name[i+1:]
			break
		}
	}
	switch string(name) {
	case "int":
		return xInt, "int", true
	case "i4":
		return xInt, "i4", true
	case "i8":
		return xInt, "i8", true
	case "i1":
		return xInt, "i1", true
	case "i2":
		return xInt, "i2", true
	case "biginteger":
		return xInt, "biginteger", true
	case "boolean":
		return xBool, "boolean", true
	case "string":
		return xString, "string", true
	case "double":
		return xDouble, "double", true
	case "float":
		return xDouble, "float", true
	case "bigdecimal":
		return xDouble, "bigdecimal", true
	case "dateTime.iso8601":
		return xTime, "dateTime.iso8601", true
	case "dateTime":
		return xTime, "dateTime", true
	case "base64":
		return xBase64, "base64", true
	case "nil":
		return xNil, "nil", true
	case "array":
		return xArray, "array", true
	case "struct":
		return xStruct, "struct", true
	}
	return 0, "", false
}

func (d *decoder) invalid(msg string) error {
	return &codecError{code: CodeInvalidRequest, msg: msg}
}

func localName(b []byte) string {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ':' {
			return string(b[i+1:])
		}
	}
	return string(b)
}

// unexpected describes the token t where want was expected.
func (d *decoder) unexpected(t token, want string) error {
	var got string
	switch t {
	case tokStart:
		got = "<" + string(d.s.name) + ">"
	case tokEnd:
		got = "</" + string(d.s.name) + ">"
	case tokText:
		got = "text " + quoteShort(d.s.text)
	default:
		got = "end of input"
	}
	return d.invalid("want " + want + ", got " + got)
}

// tok returns the next token, skipping whitespace; other text between
// elements is an error.
func (d *decoder) tok() (token, error) {
	for {
		t, err := d.s.next()
		if err != nil {
			return 0, err
		}
		if t == tokText {
			if isSpace(d.s.text) {
				continue
			}
			return 0, d.unexpected(t, "an element")
		}
		return t, nil
	}
}

func (d *decoder) start(name string) error {
	t, err := d.tok()
	if err != nil {
		return err
	}
	if t != tokStart || localName(d.s.name) != name {
		return d.unexpected(t, "<"+name+">")
	}
	return nil
}

func (d *decoder) end() error {
	t, err := d.tok()
	if err != nil {
		return err
	}
	if t != tokEnd {
		return d.unexpected(t, "an end tag")
	}
	return nil
}

// eof checks that nothing but whitespace, comments and PIs follows the root.
func (d *decoder) eof() error {
	t, err := d.tok()
	if err != nil {
		return err
	}
	if t != tokEOF {
		return d.unexpected(t, "end of input")
	}
	return nil
}

// scalarText reads a scalar element's content through its end tag.
func (d *decoder) scalarText() ([]byte, error) {
	t, err := d.s.next()
	if err != nil {
		return nil, err
	}
	switch t {
	case tokEnd:
		return nil, nil
	case tokText:
		text := d.s.text
		if t, err = d.s.next(); err != nil {
			return nil, err
		}
		if t == tokEnd {
			return text, nil
		}
	}
	return nil, d.invalid("unexpected element <" + string(d.s.name) + "> inside a scalar value")
}

// callHeader reads <methodCall><methodName>...</methodName>.
func (d *decoder) callHeader() (string, error) {
	if err := d.start("methodCall"); err != nil {
		return "", err
	}
	if err := d.start("methodName"); err != nil {
		return "", err
	}
	name, err := d.scalarText()
	if err != nil {
		return "", err
	}
	return string(trimSpace(name)), nil
}

// callParams reads the params of a call (after callHeader) through the end
// of the document, calling each with the decoder just inside the i-th
// <value>; each must consume the value through </value>. It returns the
// number of params.
func (d *decoder) callParams(each func(i int) error) (int, error) {
	t, err := d.tok()
	if err != nil {
		return 0, err
	}
	if t == tokEnd { // </methodCall> without <params>
		return 0, d.eof()
	}
	if t != tokStart || localName(d.s.name) != "params" {
		return 0, d.unexpected(t, "<params>")
	}
	n, err := d.paramList(each)
	if err != nil {
		return n, err
	}
	if err := d.end(); err != nil {
		return n, err
	}
	return n, d.eof()
}

// paramList reads <param><value>...</value></param>* and </params>.
func (d *decoder) paramList(each func(i int) error) (int, error) {
	n := 0
	for {
		t, err := d.tok()
		if err != nil {
			return n, err
		}
		if t == tokEnd {
			return n, nil
		}
		if t != tokStart || localName(d.s.name) != "param" {
			return n, d.unexpected(t, "<param>")
		}
		if n >= d.lim.MaxParams {
			return n, d.invalid("more than " + strconv.Itoa(d.lim.MaxParams) + " params (Limits.MaxParams)")
		}
		if err := d.start("value"); err != nil {
			return n, err
		}
		if err := each(n); err != nil {
			return n, atPath(err, "param "+strconv.Itoa(n+1))
		}
		n++
		if err := d.end(); err != nil {
			return n, err
		}
	}
}

// response reads a methodResponse. For a fault it returns the *Fault as the
// error; otherwise it calls each for every param (see callParams).
func (d *decoder) response(each func(i int) error) (int, error) {
	if err := d.start("methodResponse"); err != nil {
		return 0, err
	}
	t, err := d.tok()
	if err != nil {
		return 0, err
	}
	if t == tokStart && localName(d.s.name) == "fault" {
		f, err := d.fault()
		if err != nil {
			return 0, err
		}
		if err := d.end(); err != nil {
			return 0, err
		}
		if err := d.eof(); err != nil {
			return 0, err
		}
		return 0, f
	}
	if t != tokStart || localName(d.s.name) != "params" {
		return 0, d.unexpected(t, "<params> or <fault>")
	}
	n, err := d.paramList(each)
	if err != nil {
		return n, err
	}
	if err := d.end(); err != nil {
		return n, err
	}
	return n, d.eof()
}

// fault reads <value><struct>faultCode, faultString</struct></value></fault>.
func (d *decoder) fault() (*Fault, error) {
	if err := d.start("value"); err != nil {
		return nil, err
	}
	var m map[string]any
	if err := d.value(reflect.ValueOf(&m).Elem()); err != nil {
		return nil, atPath(err, "fault")
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	f := &Fault{}
	msg := faultText(m["faultString"])
	f.Message = msg
	switch c := m["faultCode"].(type) {
	case int64:
		if int64(int(c)) == c {
			f.Code = int(c)
		}
	case string: // some servers send the code as a string
		if n, err := strconv.Atoi(string(trimSpace([]byte(c)))); err == nil {
			f.Code = n
		} else {
			f.Message = msg + " (faultCode " + strconv.Quote(c) + ")"
		}
	}
	return f, nil
}

// faultText is a faultString as text whatever its type: some servers
// (Perl's XMLRPC::Lite) send it as base64.
func faultText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case []byte:
		if utf8.Valid(t) {
			return string(t)
		}
		return strconv.QuoteToASCII(string(t))
	}
	return fmt.Sprint(v)
}

// value decodes the content of a <value> whose start tag was just read,
// through </value>, into v. An invalid v discards the value (after checking it).
func (d *decoder) value(v reflect.Value) error {
	t, err := d.s.next()
	if err != nil {
		return err
	}
	if t == tokText {
		if !isSpace(d.s.text) { // untyped: a string, whitespace kept
			text := d.s.text
			if t, err = d.s.next(); err != nil {
				return err
			}
			if t != tokEnd {
				return d.invalid("unexpected element <" + string(d.s.name) + "> after text in <value>")
			}
			return d.scalar(v, xString, "string", text)
		}
		ws := string(d.s.text)
		if t, err = d.s.next(); err != nil {
			return err
		}
		if t == tokEnd {
			return d.scalar(v, xString, "string", []byte(ws))
		}
	}
	if t == tokEnd { // <value/>, <value></value>: the empty string
		return d.scalar(v, xString, "string", nil)
	}
	xt, tname, ok := typeOf(d.s.name)
	if !ok {
		return d.invalid("unknown value type <" + string(d.s.name) + ">")
	}
	switch xt {
	case xArray:
		err = d.array(v)
	case xStruct:
		err = d.strct(v)
	default:
		var text []byte
		if text, err = d.scalarText(); err == nil {
			err = d.scalar(v, xt, tname, text)
		}
	}
	if err != nil {
		return err
	}
	return d.end()
}

// scalar stores the text of a scalar value of type xt into v.
func (d *decoder) scalar(v reflect.Value, xt xtype, tname string, text []byte) error {
	if !v.IsValid() {
		_, err := naturalScalar(xt, tname, text)
		return err
	}
	if xt == xNil {
		if !isSpace(text) {
			return d.invalid("<nil> with content")
		}
		if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			v.SetZero()
			return nil
		}
		return setNil(v)
	}
	v = deref(v)
	if v.Kind() == reflect.Interface {
		if v.NumMethod() != 0 {
			return mismatch(v.Type(), tname)
		}
		if xt == xString {
			v.Set(reflect.ValueOf(d.s.takeText(text)))
			return nil
		}
		n, err := naturalScalar(xt, tname, text)
		if err == nil {
			v.Set(reflect.ValueOf(n))
		}
		return err
	}
	switch xt {
	case xInt:
		n, err := parseInt(tname, text)
		if err != nil {
			return err
		}
		return setInt(v, n, tname)
	case xBool:
		b, err := parseBool(text)
		if err != nil {
			return err
		}
		return setBool(v, b, tname)
	case xString:
		if v.Kind() != reflect.String {
			return mismatch(v.Type(), tname)
		}
		v.SetString(d.s.takeText(text))
		return nil
	case xDouble:
		f, err := parseDouble(text)
		if err != nil {
			return err
		}
		return setFloat(v, f, tname)
	case xTime:
		if v.Type() != timeType {
			return mismatch(v.Type(), tname)
		}
		t, err := parseDateTime(text)
		if err != nil {
			return err
		}
		return setTime(v, t)
	case xBase64:
		if v.Kind() != reflect.Slice || v.Type().Elem().Kind() != reflect.Uint8 {
			return mismatch(v.Type(), tname)
		}
		b, err := parseBase64(text)
		if err != nil {
			return err
		}
		return setBytes(v, b)
	}
	return d.invalid("bad scalar type " + tname)
}

// naturalScalar is the natural Go value of a scalar (see the package doc).
func naturalScalar(xt xtype, tname string, text []byte) (any, error) {
	switch xt {
	case xNil:
		return nil, nil
	case xInt:
		return parseInt(tname, text)
	case xBool:
		return parseBool(text)
	case xString:
		return string(text), nil
	case xDouble:
		return parseDouble(text)
	case xTime:
		return parseDateTime(text)
	case xBase64:
		return parseBase64(text)
	}
	return nil, valueErr("bad scalar type " + tname)
}

// deref follows pointers, allocating nil ones.
func deref(v reflect.Value) reflect.Value {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	return v
}

func (d *decoder) enter() error {
	if d.depth >= d.lim.MaxDepth {
		return d.invalid("values nested deeper than " + strconv.Itoa(d.lim.MaxDepth) + " levels (Limits.MaxDepth)")
	}
	d.depth++
	return nil
}

// array decodes <array><data><value>...</data></array> (start tag read).
func (d *decoder) array(v reflect.Value) error {
	if v.IsValid() {
		v = deref(v)
		switch v.Kind() {
		case reflect.Slice, reflect.Array:
		case reflect.Interface:
			if v.NumMethod() != 0 {
				return mismatch(v.Type(), "array")
			}
			out := []any{}
			if err := d.array(reflect.ValueOf(&out).Elem()); err != nil {
				return err
			}
			v.Set(reflect.ValueOf(out))
			return nil
		default:
			return mismatch(v.Type(), "array")
		}
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer func() { d.depth-- }()
	t, err := d.tok()
	if err != nil {
		return err
	}
	n := 0
	if t == tokStart && localName(d.s.name) == "data" {
		for {
			if t, err = d.tok(); err != nil {
				return err
			}
			if t == tokEnd {
				break
			}
			if t != tokStart || localName(d.s.name) != "value" {
				return d.unexpected(t, "<value>")
			}
			if n >= d.lim.MaxMembers {
				return d.invalid("more than " + strconv.Itoa(d.lim.MaxMembers) + " array elements (Limits.MaxMembers)")
			}
			if n >= d.lim.MaxMulticallCalls && v.IsValid() && v.Type() == multicallCallsType {
				return d.invalid("more than " + strconv.Itoa(d.lim.MaxMulticallCalls) + " calls in one system.multicall (Limits.MaxMulticallCalls)")
			}
			var ev reflect.Value
			switch {
			case !v.IsValid():
			case v.Kind() == reflect.Slice:
				if n >= v.Cap() {
					v.Grow(1)
				}
				v.SetLen(n + 1)
				ev = v.Index(n)
				ev.SetZero()
			case n < v.Len():
				ev = v.Index(n)
			default:
				return valueErr("more than " + strconv.Itoa(v.Len()) + " elements for " + v.Type().String())
			}
			if err := d.value(ev); err != nil {
				return atPath(err, "element "+strconv.Itoa(n))
			}
			n++
		}
		if t, err = d.tok(); err != nil {
			return err
		}
	}
	if t != tokEnd {
		return d.unexpected(t, "<data>")
	}
	if v.IsValid() {
		switch {
		case v.Kind() == reflect.Slice && n == 0:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		case v.Kind() == reflect.Slice:
			v.SetLen(n)
		default:
			for i := n; i < v.Len(); i++ {
				v.Index(i).SetZero()
			}
		}
	}
	return nil
}

// memberName interns a member name.
func (d *decoder) memberName(b []byte) string {
	if s, ok := d.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if d.names == nil {
		d.names = map[string]string{}
	}
	if len(d.names) < 4096 {
		d.names[s] = s
	}
	return s
}

// strct decodes <struct><member><name/><value/></member>...</struct>.
func (d *decoder) strct(v reflect.Value) error {
	var si *structInfo
	if v.IsValid() {
		v = deref(v)
		switch v.Kind() {
		case reflect.Struct:
			if v.Type() == timeType {
				return mismatch(v.Type(), "struct")
			}
			si = d.fields.info(v.Type())
		case reflect.Map:
			if v.Type().Key().Kind() != reflect.String {
				return mismatch(v.Type(), "struct")
			}
			if v.IsNil() {
				v.Set(reflect.MakeMap(v.Type()))
			}
		case reflect.Interface:
			if v.NumMethod() != 0 {
				return mismatch(v.Type(), "struct")
			}
			out := map[string]any{}
			if err := d.strct(reflect.ValueOf(&out).Elem()); err != nil {
				return err
			}
			v.Set(reflect.ValueOf(out))
			return nil
		default:
			return mismatch(v.Type(), "struct")
		}
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer func() { d.depth-- }()
	n := 0
	for {
		t, err := d.tok()
		if err != nil {
			return err
		}
		if t == tokEnd {
			return nil
		}
		if t != tokStart || localName(d.s.name) != "member" {
			return d.unexpected(t, "<member>")
		}
		if n >= d.lim.MaxMembers {
			return d.invalid("more than " + strconv.Itoa(d.lim.MaxMembers) + " struct members (Limits.MaxMembers)")
		}
		n++
		if err := d.start("name"); err != nil {
			return err
		}
		nb, err := d.scalarText()
		if err != nil {
			return err
		}
		name := d.memberName(nb)
		if err := d.start("value"); err != nil {
			return err
		}
		switch {
		case !v.IsValid():
			err = d.value(v)
		case si != nil:
			var fv reflect.Value
			if f, ok := si.lookup([]byte(name)); ok {
				fv = fieldByIndex(v, f.index)
			}
			err = d.value(fv)
		default:
			ev := reflect.New(v.Type().Elem()).Elem()
			if err = d.value(ev); err == nil {
				kv := reflect.ValueOf(name)
				if kt := v.Type().Key(); kt != kv.Type() {
					kv = kv.Convert(kt)
				}
				v.SetMapIndex(kv, ev)
			}
		}
		if err != nil {
			return atPath(err, "member "+strconv.Quote(name))
		}
		if err := d.end(); err != nil {
			return err
		}
	}
}

// natural decodes the content of a <value> (start tag read) into a natural value.
func (d *decoder) natural() (any, error) {
	var x any
	err := d.value(reflect.ValueOf(&x).Elem())
	return x, err
}
