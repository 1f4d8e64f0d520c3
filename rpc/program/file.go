package program

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Defaults for fields a methods file leaves out.
const (
	DefaultTimeout        = time.Minute // sync methods; async methods have none by default
	DefaultOutputCap      = 1 << 20     // sync: each of stdout and stderr
	DefaultAsyncOutputCap = 64 << 20    // async: the job's output file
	DefaultMaxConcurrent  = 4
	DefaultKillGrace      = 5 * time.Second
	maxFileSize           = 1 << 20
)

// File is a validated methods file.
type File struct {
	Path    string // as given to Load; "" from Parse
	Methods []Method
	Jobs    JobLimits // the [jobs] table, defaults filled in
}

// Method is one declared method.
type Method struct {
	Name, Help    string
	Params        []Param
	Argv          []string          // the template as written; see the package doc
	Dir           string            // absolute working directory
	Env           []string          // names passed through from serve's environment
	SetEnv        map[string]string // fixed values (override Env)
	Timeout       time.Duration     // 0: none
	KillGrace     time.Duration     // SIGTERM to SIGKILL
	OutputCap     int64             // bytes: per stream (sync) or of the output file (async)
	MaxConcurrent int               // running at once; sync calls beyond it wait, async ones queue
	MaxQueued     int               // async: jobs waiting beyond MaxConcurrent; more fault (busy)
	Async         bool
	Line          int // of its [[method]] header

	args     []argTemplate
	argvLine int // of its argv key
}

// Param is a typed parameter of a Method.
type Param struct {
	Name, Type, Help string
	Default          any // coerced to Type; nil: required
	Enum             []any
	Min, Max         *float64
	AllowLeadingDash bool
	Line             int
}

// ConfigError is a problem in a methods file, with the line it is on
// (0 when it is about the whole file).
type ConfigError struct {
	File string
	Line int
	Msg  string
	Err  error // the cause, when there is one (a *PermError for a file others could change)
}

func (e *ConfigError) Unwrap() error { return e.Err }

func (e *ConfigError) Error() string {
	name := e.File
	if name == "" {
		name = "methods file"
	}
	if e.Line > 0 {
		return fmt.Sprintf("program: %s:%d: %s", name, e.Line, e.Msg)
	}
	return fmt.Sprintf("program: %s: %s", name, e.Msg)
}

// Load reads and validates the methods file at path. It refuses a file
// that other users could change: world-writable, in a world-writable
// directory without the sticky bit, or (on Unix) owned by a user other
// than the current one or root. Relative dir and program paths are taken
// from the file's directory. Errors are *ConfigError.
func Load(path string) (*File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &ConfigError{File: path, Msg: err.Error()}
	}
	if err := checkPerm(abs); err != nil {
		return nil, &ConfigError{File: path, Msg: err.Error(), Err: err}
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, &ConfigError{File: path, Msg: err.Error()}
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxFileSize+1)); err != nil {
		return nil, &ConfigError{File: path, Msg: err.Error()}
	}
	if buf.Len() > maxFileSize {
		return nil, &ConfigError{File: path, Msg: "larger than 1 MiB"}
	}
	file, err := parse(path, filepath.Dir(abs), buf.Bytes())
	if err != nil {
		return nil, err
	}
	file.Path = path
	return file, nil
}

// Parse validates a methods file's contents; relative paths in it are
// taken from baseDir (which must be absolute). It does not check file
// permissions: use Load for files. Errors are *ConfigError.
func Parse(name, baseDir string, data []byte) (*File, error) {
	if !filepath.IsAbs(baseDir) {
		return nil, &ConfigError{File: name, Msg: fmt.Sprintf("base directory %q is not absolute", baseDir)}
	}
	return parse(name, baseDir, data)
}

type fileDecl struct {
	Method []methodDecl `toml:"method"`
	Jobs   *jobsDecl    `toml:"jobs"`
}

type methodDecl struct {
	Name          string            `toml:"name"`
	Help          string            `toml:"help"`
	Argv          []string          `toml:"argv"`
	Dir           string            `toml:"dir"`
	Env           []string          `toml:"env"`
	SetEnv        map[string]string `toml:"setenv"`
	Timeout       *string           `toml:"timeout"`
	KillGrace     *string           `toml:"kill_grace"`
	OutputCap     any               `toml:"output_cap"`
	MaxConcurrent *int64            `toml:"max_concurrent"`
	MaxQueued     *int64            `toml:"max_queued"`
	Async         bool              `toml:"async"`
	Param         []paramDecl       `toml:"param"`
}

type paramDecl struct {
	Name             string `toml:"name"`
	Type             string `toml:"type"`
	Help             string `toml:"help"`
	Default          any    `toml:"default"`
	Enum             []any  `toml:"enum"`
	Min              any    `toml:"min"`
	Max              any    `toml:"max"`
	AllowLeadingDash bool   `toml:"allow_leading_dash"`
}

var reTOMLLine = regexp.MustCompile(`^line (\d+) (.*)$`)

func parse(name, baseDir string, data []byte) (*File, error) {
	var decl fileDecl
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&decl)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &ConfigError{File: name, Line: pe.Position.Line, Msg: pe.Message}
		}
		// Type mismatches are plain errors "toml: line N (last key K): ...".
		msg := strings.TrimPrefix(err.Error(), "toml: ")
		if m := reTOMLLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &ConfigError{File: name, Line: line, Msg: m[2]}
		}
		return nil, &ConfigError{File: name, Msg: msg}
	}
	loc := newLocator(data)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, &ConfigError{File: name, Line: loc.anyKey(k[len(k)-1]), Msg: fmt.Sprintf("unknown key %q", k.String())}
	}
	if len(decl.Method) == 0 {
		return nil, &ConfigError{File: name, Msg: "no [[method]] declared"}
	}
	f := &File{}
	seen := map[string]int{}
	for i, d := range decl.Method {
		m, err := buildMethod(d, baseDir, loc, i)
		if err != nil {
			err.File = name
			return nil, err
		}
		if prev, ok := seen[m.Name]; ok {
			return nil, &ConfigError{File: name, Line: m.Line, Msg: fmt.Sprintf("method %q declared twice (first on line %d)", m.Name, prev)}
		}
		seen[m.Name] = m.Line
		f.Methods = append(f.Methods, m)
	}
	var lerr *ConfigError
	if f.Jobs, lerr = buildJobLimits(decl.Jobs, loc); lerr != nil {
		lerr.File = name
		return nil, lerr
	}
	return f, nil
}

func buildMethod(d methodDecl, baseDir string, loc *locator, i int) (Method, *ConfigError) {
	start, end := loc.method(i)
	at := func(key string) int { return loc.key(start, end, key) }
	m := Method{Name: d.Name, Help: strings.TrimSpace(d.Help), Line: start, Async: d.Async}
	fail := func(line int, format string, a ...any) (Method, *ConfigError) {
		prefix := "method"
		if m.Name != "" {
			prefix = fmt.Sprintf("method %q", m.Name)
		}
		return Method{}, &ConfigError{Line: line, Msg: prefix + ": " + fmt.Sprintf(format, a...)}
	}
	if !validName(d.Name) {
		return fail(at("name"), "name %q: use letters, digits and _ . : / (like sim.run)", d.Name)
	}
	if strings.HasPrefix(d.Name, "system.") || strings.HasPrefix(d.Name, "jobs.") {
		return fail(at("name"), "the system.* and jobs.* names are reserved")
	}
	names := map[string]bool{}
	for j, pd := range d.Param {
		pstart, pend := loc.param(i, j)
		p, err := buildParam(pd, func(key string) int { return loc.key(pstart, pend, key) })
		if err != nil {
			return fail(err.line, "%s", err.msg)
		}
		p.Line = pstart
		if names[p.Name] {
			return fail(pstart, "param %q declared twice", p.Name)
		}
		names[p.Name] = true
		m.Params = append(m.Params, p)
	}
	if len(d.Argv) == 0 {
		return fail(at("argv"), "argv is missing: give the program and its arguments, e.g. argv = [\"/usr/bin/env\", \"--\", \"{name}\"]")
	}
	used := map[string]bool{}
	for k, a := range d.Argv {
		t, err := parseArg(a)
		if err != nil {
			return fail(at("argv"), "argv[%d] %q: %v", k, a, err)
		}
		if t.param != "" {
			if k == 0 {
				return fail(at("argv"), "argv[0] must name the program literally, not a {param}")
			}
			if !names[t.param] {
				return fail(at("argv"), "argv[%d] %q: no param named %q", k, a, t.param)
			}
			used[t.param] = true
		}
		m.args = append(m.args, t)
	}
	for _, p := range m.Params {
		if !used[p.Name] {
			return fail(p.Line, "param %q is not used in argv", p.Name)
		}
	}
	m.Argv = d.Argv
	prog := d.Argv[0]
	if strings.ContainsRune(prog, 0) || prog == "" {
		return fail(at("argv"), "argv[0] is empty or contains NUL")
	}
	m.Dir = baseDir
	if d.Dir != "" {
		m.Dir = d.Dir
		if !filepath.IsAbs(m.Dir) {
			m.Dir = filepath.Join(baseDir, m.Dir)
		}
	}
	m.argvLine = at("argv")
	if strings.ContainsRune(prog, '/') || strings.ContainsRune(prog, filepath.Separator) {
		if !filepath.IsAbs(prog) {
			m.args[0].lit = filepath.Join(baseDir, prog) // the file's directory, not dir
		}
	}
	for _, n := range d.Env {
		if n == "" || strings.ContainsAny(n, "=\x00") {
			return fail(at("env"), "env name %q is not a variable name", n)
		}
	}
	m.Env = d.Env
	for k, v := range d.SetEnv {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return fail(at("setenv"), "setenv %q: not a valid variable", k)
		}
	}
	m.SetEnv = d.SetEnv
	if !d.Async {
		m.Timeout = DefaultTimeout
	}
	if d.Timeout != nil {
		t, err := time.ParseDuration(*d.Timeout)
		if err != nil || t < 0 {
			return fail(at("timeout"), "timeout %q: want a duration like \"30s\" or \"2h\" (\"0s\": none)", *d.Timeout)
		}
		m.Timeout = t
	}
	m.KillGrace = DefaultKillGrace
	if d.KillGrace != nil {
		t, err := time.ParseDuration(*d.KillGrace)
		if err != nil || t < 0 {
			return fail(at("kill_grace"), "kill_grace %q: want a duration like \"5s\"", *d.KillGrace)
		}
		m.KillGrace = t
	}
	m.OutputCap = DefaultOutputCap
	if d.Async {
		m.OutputCap = DefaultAsyncOutputCap
	}
	if d.OutputCap != nil {
		n, err := parseSize(d.OutputCap)
		if err != nil {
			return fail(at("output_cap"), "output_cap: %v", err)
		}
		m.OutputCap = n
	}
	m.MaxConcurrent = DefaultMaxConcurrent
	if d.MaxConcurrent != nil {
		if *d.MaxConcurrent < 1 || *d.MaxConcurrent > 1<<16 {
			return fail(at("max_concurrent"), "max_concurrent %d: want 1 or more", *d.MaxConcurrent)
		}
		m.MaxConcurrent = int(*d.MaxConcurrent)
	}
	m.MaxQueued = DefaultMaxQueued
	if d.MaxQueued != nil {
		if *d.MaxQueued < 0 || *d.MaxQueued > 1<<20 || !d.Async {
			return fail(at("max_queued"), "max_queued %d: want 0 or more, on an async method", *d.MaxQueued)
		}
		m.MaxQueued = int(*d.MaxQueued)
	}
	return m, nil
}

type lineErr struct {
	line int
	msg  string
}

func buildParam(d paramDecl, at func(string) int) (Param, *lineErr) {
	p := Param{Name: d.Name, Type: d.Type, Help: strings.TrimSpace(d.Help), AllowLeadingDash: d.AllowLeadingDash}
	fail := func(key, format string, a ...any) (Param, *lineErr) {
		return Param{}, &lineErr{line: at(key), msg: fmt.Sprintf("param %q: ", d.Name) + fmt.Sprintf(format, a...)}
	}
	if !validParamName(d.Name) {
		return fail("name", "name: use letters, digits and _ (a param is written {name} in argv)")
	}
	if !validType(d.Type) {
		return fail("type", "type %q: want one of %s", d.Type, strings.Join(types, ", "))
	}
	numeric := d.Type == "int" || d.Type == "i8" || d.Type == "double"
	for _, mm := range []struct {
		key string
		v   any
		dst **float64
	}{{"min", d.Min, &p.Min}, {"max", d.Max, &p.Max}} {
		if mm.v == nil {
			continue
		}
		if !numeric {
			return fail(mm.key, "%s applies to int, i8 and double only", mm.key)
		}
		var f float64
		switch x := mm.v.(type) {
		case int64:
			f = float64(x)
		case float64:
			f = x
		default:
			return fail(mm.key, "%s must be a number", mm.key)
		}
		*mm.dst = &f
	}
	if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
		return fail("max", "min %v is greater than max %v", *p.Min, *p.Max)
	}
	for _, e := range d.Enum {
		v, err := coerceDecl(p.Type, e)
		if err != nil {
			return fail("enum", "enum value %v: %v", e, err)
		}
		if err := p.checkRange(v); err != nil {
			return fail("enum", "enum value %v: %v", e, err)
		}
		p.Enum = append(p.Enum, v)
	}
	if d.Default != nil {
		v, err := coerceDecl(p.Type, d.Default)
		if err != nil {
			return fail("default", "default: %v", err)
		}
		if err := p.check(v); err != nil {
			return fail("default", "default: %v", err)
		}
		p.Default = v
	}
	return p, nil
}

// parseSize reads an integer byte count or a string like "4MiB".
func parseSize(v any) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case string:
		s := strings.TrimSpace(x)
		mult := int64(1)
		for _, u := range []struct {
			suffix string
			m      int64
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
			if strings.HasSuffix(s, u.suffix) {
				s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
				break
			}
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q: want bytes as an integer or a string like \"4MiB\"", x)
		}
		n = i * mult
	default:
		return 0, fmt.Errorf("want bytes as an integer or a string like \"4MiB\"")
	}
	if n < 1 || n > 1<<40 {
		return 0, fmt.Errorf("%d bytes: out of range", n)
	}
	return n, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '_' || r == '.' || r == ':' || r == '/'
		if !ok {
			return false
		}
	}
	return true
}

func validParamName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
