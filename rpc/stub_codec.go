package rpc

import (
	"context"
	"errors"
	"io"
)

// I8 is an int64 that is always encoded as <i8>, for callers that want to force it.
type I8 int64

// Method describes a method for registration.
type Method struct {
	Name       string
	Help       string
	Signatures [][]string                                           // each: result type then param types, XML-RPC type names
	Func       any                                                  // a Go func checked by reflection, or
	Raw        func(ctx context.Context, params []any) (any, error) // params as natural values
}

type callInfo struct {
	Method string
	Fault  *Fault
}

type registry struct {
	lim     Limits
	methods map[string]Method
}

func newRegistry(lim Limits) *registry {
	return &registry{lim: lim.withDefaults(), methods: map[string]Method{}}
}

func (r *registry) add(m Method) error {
	if _, dup := r.methods[m.Name]; dup {
		return errors.New("rpc: register " + m.Name + ": duplicate")
	}
	r.methods[m.Name] = m
	return nil
}

func (r *registry) serve(ctx context.Context, body io.Reader, w io.Writer) callInfo {
	f := &Fault{Code: CodeInternal, Message: "not implemented yet"}
	_ = writeFault(w, f)
	return callInfo{Fault: f}
}

func writeCall(w io.Writer, method string, params []any) error {
	return errors.New("not implemented yet")
}

func readResponse(r io.Reader, lim Limits, reply any) error {
	return errors.New("not implemented yet")
}

func writeFault(w io.Writer, f *Fault) error {
	_, err := io.WriteString(w, `<?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultCode</name><value><int>-32603</int></value></member><member><name>faultString</name><value><string>not implemented yet</string></value></member></struct></value></fault></methodResponse>`)
	return err
}
