package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Method describes a method for registration.
//
// Func is a Go function checked by reflection when it is registered: an
// optional leading context.Context (the request's, cancelled when the client
// goes away), then params of any decodable type (a variadic func takes the
// trailing params), and results T, (T, error), error, or none. A method that
// returns no value (none, or a nil error alone) sends <nil/>, which Python's
// and kolo's clients read as None/nothing.
//
// Raw instead receives the params as natural values (see the package doc).
// Exactly one of Func and Raw must be set.
//
// An error a method returns is sent as is if it is (or wraps) a *Fault,
// otherwise as a Fault with CodeApplication and err.Error(). A panic becomes
// a Fault with CodeInternal; its value and stack are not sent.
type Method struct {
	Name       string
	Help       string
	Signatures [][]string                                           // each: result type then param types, XML-RPC type names
	Func       any                                                  // a Go func checked by reflection, or
	Raw        func(ctx context.Context, params []any) (any, error) // params as natural values
}

// callInfo describes one served call, for the logger.
type callInfo struct {
	Method string
	Fault  *Fault // nil on success
}

// method is a registered Method with its reflected form.
type method struct {
	Method
	fn        reflect.Value
	ctx       bool           // takes a leading context.Context
	in        []reflect.Type // param types after ctx; for a variadic func the last is the slice type
	variadic  bool
	hasResult bool // returns a value T
	hasErr    bool // returns an error (last)
}

// registry holds the methods and dispatches calls to them.
type registry struct {
	lim     Limits
	mu      sync.RWMutex
	methods map[string]*method
}

// unsupportedSignature is what system.methodSignature returns when a
// signature cannot be given, as Python's SimpleXMLRPCServer does.
const unsupportedSignature = "signatures not supported"

func newRegistry(lim Limits) *registry {
	r := &registry{lim: lim.withDefaults(), methods: map[string]*method{}}
	for _, m := range r.builtins() {
		_ = r.add(m) // static and valid; TestBuiltins checks they are all there
	}
	return r
}

// validName reports whether name uses only the characters the XML-RPC spec
// allows in a methodName (A-Za-z0-9_.:/).
func validName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '/') {
			return false
		}
	}
	return true
}

// add registers m. It returns an error (never panics) for an invalid name, a
// duplicate, or a Func whose signature cannot be served.
func (r *registry) add(m Method) error {
	wrap := func(msg string) error {
		return errors.New("rpc: register " + strconv.Quote(m.Name) + ": " + msg)
	}
	if !validName(m.Name) {
		return wrap("invalid method name (want 1-256 characters of A-Za-z0-9_.:/)")
	}
	if (m.Func == nil) == (m.Raw == nil) {
		return wrap("exactly one of Func and Raw must be set")
	}
	rm := &method{Method: m}
	if m.Func != nil {
		fn := reflect.ValueOf(m.Func)
		if fn.Kind() != reflect.Func || fn.IsNil() {
			return wrap("Func is a " + fn.Type().String() + ", not a func")
		}
		t := fn.Type()
		rm.fn = fn
		rm.variadic = t.IsVariadic()
		for i := range t.NumIn() {
			pt := t.In(i)
			if i == 0 && pt == ctxType {
				rm.ctx = true
				continue
			}
			check := pt
			if rm.variadic && i == t.NumIn()-1 {
				check = pt.Elem()
			}
			if err := checkType(check, true, map[reflect.Type]bool{}); err != nil {
				return wrap("param " + strconv.Itoa(len(rm.in)+1) + " (" + pt.String() + "): " + err.Error())
			}
			rm.in = append(rm.in, pt)
		}
		switch t.NumOut() {
		case 0:
		case 1:
			if t.Out(0) == errorType {
				rm.hasErr = true
			} else {
				rm.hasResult = true
			}
		case 2:
			if t.Out(1) != errorType {
				return wrap("second result must be error, not " + t.Out(1).String())
			}
			rm.hasResult, rm.hasErr = true, true
		default:
			return wrap("too many results (want T, (T, error), error or none)")
		}
		if rm.hasResult {
			if err := checkType(t.Out(0), false, map[reflect.Type]bool{}); err != nil {
				return wrap("result (" + t.Out(0).String() + "): " + err.Error())
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.methods[m.Name]; dup {
		return wrap("already registered")
	}
	r.methods[m.Name] = rm
	return nil
}

func (r *registry) lookup(name string) *method {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.methods[name]
}

// serve decodes one <methodCall> from body, runs the method, and writes a
// complete <methodResponse> (result or fault) to w. It never panics.
func (r *registry) serve(ctx context.Context, body io.Reader, w io.Writer) callInfo {
	// Encode into a buffer so that a value that cannot be encoded still
	// leaves room for a fault; a *bytes.Buffer w is used directly.
	buf, direct := w.(*bytes.Buffer)
	if !direct {
		buf = new(bytes.Buffer)
	}
	out := &spillBuffer{buf: buf, mark: buf.Len()}
	ci := r.dispatch(ctx, newDecoder(body, -1, r.lim), out)
	if !direct {
		_, _ = w.Write(buf.Bytes())
	}
	return ci
}

// dispatch reads the call from d, runs the method, and writes a complete
// methodResponse (result or fault) to out. It never panics.
func (r *registry) dispatch(ctx context.Context, d *decoder, out *spillBuffer) (ci callInfo) {
	if ctx == nil {
		ctx = context.Background()
	}
	fault := func(f *Fault) {
		ci.Fault = f
		out.reset()
		_ = writeFault(out, f)
		out.replay = nil
		if out.spilled() { // a long message
			out.replay = func(w io.Writer) error { return writeFault(w, f) }
		}
	}
	defer func() {
		if p := recover(); p != nil { // a bug in this package: still answer
			fault(&Fault{Code: CodeInternal, Message: "internal error"})
		}
	}()
	name, err := d.callHeader()
	if err != nil {
		fault(faultOf(err))
		return ci
	}
	ci.Method = name
	if len(ci.Method) > 256 { // it goes to logs
		ci.Method = strings.ToValidUTF8(ci.Method[:256], "") + "..."
	}
	result, err := r.call(ctx, d, name)
	if err == nil {
		if err = writeResponse(out, result); err == nil {
			if out.spilled() {
				out.replay = func(w io.Writer) error { return writeResponse(w, result) }
			}
			return ci
		}
		err = &Fault{Code: CodeInternal, Message: "encode result: " + err.Error()}
	}
	fault(methodFault(err))
	return ci
}

// call decodes the params of method name from d and runs it.
func (r *registry) call(ctx context.Context, d *decoder, name string) (any, error) {
	m := r.lookup(name)
	if m == nil {
		return nil, &Fault{Code: CodeMethodNotFound, Message: "method " + strconv.Quote(name) + " not found"}
	}
	if m.Raw != nil {
		var params []any
		_, err := d.callParams(func(int) error {
			x, err := d.natural()
			params = append(params, x)
			return err
		})
		if err != nil {
			return nil, faultOf(err)
		}
		return m.invoke(ctx, nil, params)
	}
	args := make([]reflect.Value, 0, len(m.in))
	n, err := d.callParams(func(i int) error {
		t := m.paramType(i)
		if t == nil { // too many: count them, report below
			return d.value(reflect.Value{})
		}
		v := reflect.New(t).Elem()
		args = append(args, v)
		return d.value(v)
	})
	if err != nil {
		return nil, faultOf(err)
	}
	if ce := m.countError(n); ce != nil {
		return nil, faultOf(ce)
	}
	return m.invoke(ctx, args, nil)
}

// paramType is the Go type of the i-th param (0-based), nil past the end.
func (m *method) paramType(i int) reflect.Type {
	fixed := len(m.in)
	if m.variadic {
		fixed--
	}
	switch {
	case i < fixed:
		return m.in[i]
	case m.variadic:
		return m.in[fixed].Elem()
	}
	return nil
}

func (m *method) countError(n int) error {
	fixed := len(m.in)
	if m.variadic {
		fixed--
		if n >= fixed {
			return nil
		}
		return valueErr("want at least " + strconv.Itoa(fixed) + " params, got " + strconv.Itoa(n))
	}
	if n == fixed {
		return nil
	}
	return valueErr("want " + strconv.Itoa(fixed) + " params, got " + strconv.Itoa(n))
}

// invoke runs the method with decoded args (Func) or natural params (Raw),
// turning a panic into a CodeInternal fault.
func (m *method) invoke(ctx context.Context, args []reflect.Value, params []any) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, &Fault{Code: CodeInternal, Message: "internal error in method " + strconv.Quote(m.Name)}
		}
	}()
	if m.Raw != nil {
		return m.Raw(ctx, params)
	}
	if m.ctx {
		args = append([]reflect.Value{reflect.ValueOf(&ctx).Elem()}, args...)
	}
	out := m.fn.Call(args)
	if m.hasErr {
		if e := out[len(out)-1]; !e.IsNil() {
			return nil, e.Interface().(error)
		}
	}
	if m.hasResult {
		return out[0].Interface(), nil
	}
	return nil, nil
}

// callNatural runs m with params already decoded as natural values (multicall).
func (m *method) callNatural(ctx context.Context, params []any) (any, error) {
	if m.Raw != nil {
		return m.invoke(ctx, nil, params)
	}
	if err := m.countError(len(params)); err != nil {
		return nil, faultOf(err)
	}
	args := make([]reflect.Value, len(params))
	for i, p := range params {
		args[i] = reflect.New(m.paramType(i)).Elem()
		if err := assign(args[i], p); err != nil {
			return nil, faultOf(atPath(err, "param "+strconv.Itoa(i+1)))
		}
	}
	return m.invoke(ctx, args, nil)
}

// methodFault is the fault sent for an error from a method.
func methodFault(err error) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		if f == nil {
			return &Fault{Code: CodeApplication, Message: "method returned a nil *Fault as its error"}
		}
		return f
	}
	return &Fault{Code: CodeApplication, Message: errorText(err)}
}

// errorText is err.Error(), safe against Error methods that panic (a typed
// nil pointer in an error interface, typically).
func errorText(err error) (s string) {
	defer func() {
		if recover() != nil {
			s = "method error (its Error method panicked)"
		}
	}()
	return err.Error()
}

// signatures answers system.methodSignature for m.
func (m *method) signatures() any {
	if m.Signatures != nil {
		return m.Signatures
	}
	if m.Raw != nil || m.variadic {
		return unsupportedSignature
	}
	t := m.fn.Type()
	sig := []string{"nil"}
	if m.hasResult {
		sig[0] = xmlTypeName(t.Out(0))
	}
	for _, pt := range m.in {
		sig = append(sig, xmlTypeName(pt))
	}
	if slices.Contains(sig, "") {
		return unsupportedSignature
	}
	return [][]string{sig}
}
