package rpc

import (
	"reflect"
	"strconv"
	"time"
)

// assign stores a natural value (as decoded into any) into a Go value, with
// the same rules and errors as decoding straight into it. system.multicall
// needs it: a call's params are decoded before its methodName may be known.
func assign(v reflect.Value, n any) error {
	if n == nil {
		if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			v.SetZero()
			return nil
		}
		return setNil(v)
	}
	v = deref(v)
	if v.Kind() == reflect.Interface {
		if v.NumMethod() != 0 {
			return mismatch(v.Type(), naturalName(n))
		}
		v.Set(reflect.ValueOf(n))
		return nil
	}
	switch x := n.(type) {
	case int64:
		return setInt(v, x, "int")
	case bool:
		return setBool(v, x, "boolean")
	case string:
		return setString(v, x)
	case float64:
		return setFloat(v, x, "double")
	case time.Time:
		return setTime(v, x)
	case []byte:
		return setBytes(v, x)
	case []any:
		switch v.Kind() {
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), len(x), len(x)))
		case reflect.Array:
			if len(x) > v.Len() {
				return valueErr("more than " + strconv.Itoa(v.Len()) + " elements for " + v.Type().String())
			}
			v.SetZero()
		default:
			return mismatch(v.Type(), "array")
		}
		for i, e := range x {
			if err := assign(v.Index(i), e); err != nil {
				return atPath(err, "element "+strconv.Itoa(i))
			}
		}
		return nil
	case map[string]any:
		switch v.Kind() {
		case reflect.Map:
			if v.Type().Key().Kind() != reflect.String {
				return mismatch(v.Type(), "struct")
			}
			if v.IsNil() {
				v.Set(reflect.MakeMapWithSize(v.Type(), len(x)))
			}
			for k, e := range x {
				ev := reflect.New(v.Type().Elem()).Elem()
				if err := assign(ev, e); err != nil {
					return atPath(err, "member "+strconv.Quote(k))
				}
				v.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), ev)
			}
			return nil
		case reflect.Struct:
			if v.Type() == timeType {
				return mismatch(v.Type(), "struct")
			}
			var c fieldCache
			si := c.info(v.Type())
			for k, e := range x {
				f, ok := si.lookup([]byte(k))
				if !ok {
					continue
				}
				if err := assign(fieldByIndex(v, f.index), e); err != nil {
					return atPath(err, "member "+strconv.Quote(k))
				}
			}
			return nil
		}
		return mismatch(v.Type(), "struct")
	}
	return valueErr("unexpected value of type " + reflect.TypeOf(n).String())
}

// naturalName is the XML-RPC type name of a natural value.
func naturalName(n any) string {
	switch n.(type) {
	case nil:
		return "nil"
	case int64:
		return "int"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		return "double"
	case time.Time:
		return "dateTime.iso8601"
	case []byte:
		return "base64"
	case []any:
		return "array"
	case map[string]any:
		return "struct"
	}
	return reflect.TypeOf(n).String()
}
