package program

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var types = []string{"int", "i8", "double", "boolean", "string", "base64", "dateTime.iso8601", "array", "struct"}

func validType(t string) bool { return slices.Contains(types, t) }

// coerce checks that v (a natural value from the rpc decoder) has the
// param's type, widening an int to a double and a string to base64.
func coerce(typ string, v any) (any, error) {
	switch typ {
	case "int", "i8":
		if x, ok := v.(int64); ok {
			return x, nil
		}
	case "double":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	case "boolean":
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case "string":
		if x, ok := v.(string); ok {
			return x, nil
		}
	case "base64":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case "dateTime.iso8601":
		if x, ok := v.(time.Time); ok {
			return x, nil
		}
	case "array":
		if x, ok := v.([]any); ok {
			return x, nil
		}
	case "struct":
		if x, ok := v.(map[string]any); ok {
			return x, nil
		}
	}
	return nil, fmt.Errorf("want %s, got %s", typ, typeName(v))
}

// coerceDecl is coerce for values written in TOML: tables arrive as
// map[string]any too, and TOML dates as time.Time.
func coerceDecl(typ string, v any) (any, error) {
	if m, ok := v.([]map[string]any); ok {
		a := make([]any, len(m))
		for i := range m {
			a[i] = m[i]
		}
		v = a
	}
	return coerce(typ, v)
}

func typeName(v any) string {
	switch v.(type) {
	case int64:
		return "int"
	case float64:
		return "double"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []byte:
		return "base64"
	case time.Time:
		return "dateTime.iso8601"
	case []any:
		return "array"
	case map[string]any:
		return "struct"
	case nil:
		return "nil"
	}
	return fmt.Sprintf("%T", v)
}

// render is the argument text of a coerced value: integers in decimal,
// doubles in the shortest form that reads back the same ('g': 0.5, 1e+21),
// booleans as true/false, base64 as its raw bytes, dateTime in RFC 3339
// UTC, arrays and structs as one JSON argument.
func render(v any) (string, error) {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	}
	b, err := json.Marshal(jsonable(v))
	return string(b), err
}

func jsonable(v any) any {
	switch x := v.(type) {
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = jsonable(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	}
	return v
}

// checkRange applies min and max.
func (p *Param) checkRange(v any) error {
	var f float64
	switch x := v.(type) {
	case int64:
		f = float64(x)
	case float64:
		f = x
	default:
		return nil
	}
	if p.Min != nil && f < *p.Min {
		return fmt.Errorf("%v is below the minimum %s", v, formatBound(*p.Min))
	}
	if p.Max != nil && f > *p.Max {
		return fmt.Errorf("%v is above the maximum %s", v, formatBound(*p.Max))
	}
	return nil
}

// formatBound writes a min or max as the methods file would: 1000000, not
// 1e+06; 0.5 stays 0.5.
func formatBound(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// defaultText is a param's default as help shows it: numbers and booleans
// as they are (2, not "2"), text quoted.
func defaultText(p *Param) string {
	s, _ := render(p.Default)
	switch p.Default.(type) {
	case int64, float64, bool:
		return s
	}
	return quoteShort(s)
}

// check applies enum, min and max to a coerced value. Enum values are
// compared by their argument text.
func (p *Param) check(v any) error {
	if err := p.checkRange(v); err != nil {
		return err
	}
	if len(p.Enum) == 0 {
		return nil
	}
	s, err := render(v)
	if err != nil {
		return err
	}
	var allowed []string
	for _, e := range p.Enum {
		es, _ := render(e)
		if es == s {
			return nil
		}
		allowed = append(allowed, es)
	}
	return fmt.Errorf("%s is not one of %s", quoteShort(s), strings.Join(allowed, ", "))
}

// quoteShort quotes a caller's value for a fault message, cut to 60 bytes.
func quoteShort(s string) string {
	if len(s) > 60 {
		cut := 60
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

// invalidParams is the fault for a caller's mistake.
func paramFault(method, format string, a ...any) error {
	return faultf(codeInvalidParams, "%s: %s", method, fmt.Sprintf(format, a...))
}

// bind maps the call's params onto the declared ones: positionally, or
// by name when the call has a single struct param (unless the method's
// only param is itself a struct). Missing params take their default.
func (m *Method) bind(params []any) (map[string]any, error) {
	vals := make(map[string]any, len(m.Params))
	named := len(params) == 1 && !(len(m.Params) == 1 && m.Params[0].Type == "struct")
	var byName map[string]any
	if named {
		byName, named = params[0].(map[string]any)
	}
	if named {
		for k := range byName {
			if !slices.ContainsFunc(m.Params, func(p Param) bool { return p.Name == k }) {
				return nil, paramFault(m.Name, "no param named %s (params: %s)", quoteShort(k), m.paramNames())
			}
		}
	} else if len(params) > len(m.Params) {
		return nil, paramFault(m.Name, "want at most %d params, got %d", len(m.Params), len(params))
	}
	for i, p := range m.Params {
		var v any
		var ok bool
		if named {
			v, ok = byName[p.Name]
		} else if i < len(params) {
			v, ok = params[i], true
		}
		if !ok {
			if p.Default == nil {
				return nil, paramFault(m.Name, "param %q is required", p.Name)
			}
			vals[p.Name] = p.Default
			continue
		}
		c, err := coerce(p.Type, v)
		if err != nil {
			return nil, paramFault(m.Name, "param %q: %v", p.Name, err)
		}
		if err := p.check(c); err != nil {
			return nil, paramFault(m.Name, "param %q: %v", p.Name, err)
		}
		vals[p.Name] = c
	}
	return vals, nil
}

func (m *Method) paramNames() string {
	if len(m.Params) == 0 {
		return "none"
	}
	names := make([]string, len(m.Params))
	for i, p := range m.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// argv renders the template with bound values. A NUL cannot be passed in
// an argument, and a value that would start an argument with '-' is
// refused unless the param allows it.
func (m *Method) argv(vals map[string]any) ([]string, error) {
	out := make([]string, len(m.args))
	for i, t := range m.args {
		if t.param == "" {
			out[i] = t.lit
			continue
		}
		s, err := render(vals[t.param])
		if err != nil {
			return nil, paramFault(m.Name, "param %q: %v", t.param, err)
		}
		if strings.IndexByte(s, 0) >= 0 {
			return nil, paramFault(m.Name, "param %q: contains a NUL byte, which no program argument can hold", t.param)
		}
		p := m.param(t.param)
		if t.lit == "" && strings.HasPrefix(s, "-") && !p.AllowLeadingDash {
			return nil, paramFault(m.Name, "param %q: %s starts with '-' and could be read as an option; this param does not allow it", t.param, quoteShort(s))
		}
		out[i] = t.lit + s + t.suffix
	}
	return out, nil
}

func (m *Method) param(name string) *Param {
	for i := range m.Params {
		if m.Params[i].Name == name {
			return &m.Params[i]
		}
	}
	return nil
}
