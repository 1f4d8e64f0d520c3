package program

import (
	"errors"
	"strings"
)

// argTemplate is one argv element: a literal, or a literal prefix, one
// {param} and a literal suffix. It always becomes exactly one argument:
// the program is started with execve, never through a shell, so nothing
// in a value can split it, and a value can only start the argument (and
// so look like a flag) when the placeholder has no prefix.
type argTemplate struct {
	lit    string // the whole element when param == ""; else the prefix
	param  string
	suffix string
}

// parseArg reads "{{" and "}}" as literal braces and "{name}" as a
// placeholder; at most one placeholder per element.
func parseArg(s string) (argTemplate, error) {
	var t argTemplate
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte(c)
			i++
		case c == '{':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return t, errors.New("unclosed { (write {{ for a literal brace)")
			}
			name := s[i+1 : i+j]
			if !validParamName(name) {
				return t, errors.New("{" + name + "} is not a param name (write {{ for a literal brace)")
			}
			if t.param != "" {
				return t, errors.New("more than one {param} in one argument")
			}
			t.param, t.lit = name, lit.String()
			lit.Reset()
			i += j
		case c == '}':
			return t, errors.New("unmatched } (write }} for a literal brace)")
		default:
			lit.WriteByte(c)
		}
	}
	if t.param == "" {
		t.lit = lit.String()
	} else {
		t.suffix = lit.String()
	}
	return t, nil
}
