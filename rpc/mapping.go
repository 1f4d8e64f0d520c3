package rpc

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Go <-> XML-RPC mapping shared by the decoder, the encoder and the registry.

var (
	timeType  = reflect.TypeFor[time.Time]()
	bytesType = reflect.TypeFor[[]byte]()
	i8Type    = reflect.TypeFor[I8]()
	anyType   = reflect.TypeFor[any]()
	errorType = reflect.TypeFor[error]()
	ctxType   = reflect.TypeFor[context.Context]()
)

// xmlTypeName is the XML-RPC type name a Go type maps to, for messages and
// signatures; "" when no single name fits (interfaces).
func xmlTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return "dateTime.iso8601"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return "base64"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "double"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "struct"
	}
	return ""
}

func wantName(t reflect.Type) string {
	if n := xmlTypeName(t); n != "" {
		return n
	}
	return t.String()
}

func mismatch(t reflect.Type, got string) error {
	return &codecError{code: CodeInvalidParams, msg: "want " + wantName(t) + ", got " + got}
}

func valueErr(msg string) error {
	return &codecError{code: CodeInvalidParams, msg: msg}
}

// The setters put one decoded scalar into a settable Go value (pointers and
// interfaces already resolved), with the mismatch and overflow errors.

func setInt(v reflect.Value, n int64, got string) error {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.OverflowInt(n) {
			return valueErr(strconv.FormatInt(n, 10) + " overflows " + v.Type().String())
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n < 0 || v.OverflowUint(uint64(n)) {
			return valueErr(strconv.FormatInt(n, 10) + " overflows " + v.Type().String())
		}
		v.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(n))
	default:
		return mismatch(v.Type(), got)
	}
	return nil
}

func setBool(v reflect.Value, b bool, got string) error {
	if v.Kind() != reflect.Bool {
		return mismatch(v.Type(), got)
	}
	v.SetBool(b)
	return nil
}

func setFloat(v reflect.Value, f float64, got string) error {
	switch v.Kind() {
	case reflect.Float32:
		if v.OverflowFloat(f) {
			return valueErr(strconv.FormatFloat(f, 'g', -1, 64) + " overflows float32")
		}
		v.SetFloat(f)
	case reflect.Float64:
		v.SetFloat(f)
	default:
		return mismatch(v.Type(), got)
	}
	return nil
}

func setString(v reflect.Value, s string) error {
	if v.Kind() != reflect.String {
		return mismatch(v.Type(), "string")
	}
	v.SetString(s)
	return nil
}

func setTime(v reflect.Value, t time.Time) error {
	if v.Type() != timeType {
		return mismatch(v.Type(), "dateTime.iso8601")
	}
	v.Set(reflect.ValueOf(t))
	return nil
}

func setBytes(v reflect.Value, b []byte) error {
	if v.Kind() != reflect.Slice || v.Type().Elem().Kind() != reflect.Uint8 {
		return mismatch(v.Type(), "base64")
	}
	v.SetBytes(b)
	return nil
}

// setNil handles <nil/>: pointers, interfaces, slices and maps become nil;
// other targets cannot hold it.
func setNil(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
		v.SetZero()
		return nil
	}
	return mismatch(v.Type(), "nil")
}

// field is one struct field as an XML-RPC member.
type field struct {
	name      string
	index     []int
	omitEmpty bool
}

type structInfo struct {
	fields []field
	byName map[string]int
}

// fieldCache caches struct layouts for one encode or decode.
type fieldCache map[reflect.Type]*structInfo

func (c *fieldCache) info(t reflect.Type) *structInfo {
	if *c == nil {
		*c = fieldCache{}
	}
	if si := (*c)[t]; si != nil {
		return si
	}
	si := &structInfo{byName: map[string]int{}}
	collectFields(t, nil, si)
	(*c)[t] = si
	return si
}

// collectFields lists t's exported fields: `xmlrpc:"name,omitempty"` tags,
// "-" skips a field, untagged embedded structs are flattened (outer names win).
func collectFields(t reflect.Type, index []int, si *structInfo) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("xmlrpc")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		idx := append(append([]int(nil), index...), i)
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct && sf.Type != timeType {
			if len(index) < 16 {
				collectFields(sf.Type, idx, si)
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := si.byName[name]; dup {
			continue
		}
		si.byName[name] = len(si.fields)
		si.fields = append(si.fields, field{name: name, index: idx, omitEmpty: opts == "omitempty"})
	}
}

// lookup finds the field for a member name: exact, then case-insensitive.
func (si *structInfo) lookup(name []byte) (field, bool) {
	if i, ok := si.byName[string(name)]; ok {
		return si.fields[i], true
	}
	for _, f := range si.fields {
		if strings.EqualFold(f.name, string(name)) {
			return f, true
		}
	}
	return field{}, false
}

// fieldByIndex is v.FieldByIndex for the paths collectFields makes (embedded
// struct values only, so no nil pointers on the way).
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for _, i := range index {
		v = v.Field(i)
	}
	return v
}

// checkType reports why t cannot be decoded (dec) or encoded (!dec), or nil.
func checkType(t reflect.Type, dec bool, seen map[reflect.Type]bool) error {
	if seen[t] {
		return nil
	}
	seen[t] = true
	switch {
	case t == timeType:
		return nil
	case t.Kind() == reflect.Interface:
		if dec && t.NumMethod() != 0 {
			return valueErr("cannot decode into interface type " + t.String())
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String:
		return nil
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return checkType(t.Elem(), dec, seen)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return valueErr("map key type " + t.Key().String() + " is not a string kind")
		}
		return checkType(t.Elem(), dec, seen)
	case reflect.Struct:
		var c fieldCache
		for _, f := range c.info(t).fields {
			if err := checkType(t.FieldByIndex(f.index).Type, dec, seen); err != nil {
				return atPath(err, "field "+f.name)
			}
		}
		return nil
	}
	return valueErr("type " + t.String() + " has no XML-RPC form")
}
