package rpc

import (
	"errors"
	"strconv"
)

// Fault codes from the "specification for fault code interoperability"
// (http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php).
const (
	CodeParse          = -32700 // not well-formed XML
	CodeInvalidRequest = -32600 // well-formed, but not a valid XML-RPC call, or past a Limits bound
	CodeMethodNotFound = -32601 // no method of that name
	CodeInvalidParams  = -32602 // wrong number or types of params
	CodeInternal       = -32603 // the server failed (a method panicked, a result could not be encoded)
	CodeApplication    = -32500 // the method returned an error that is not a *Fault
)

// Fault is an XML-RPC fault. Servers send a *Fault returned (or wrapped) by a
// method as is; clients get one back as the error of a call (use errors.As).
type Fault struct {
	Code    int
	Message string
}

// Error returns "fault <code>: <message>".
func (f *Fault) Error() string {
	return "fault " + strconv.Itoa(f.Code) + ": " + f.Message
}

// codecError is an error of the codec: malformed XML (CodeParse), a valid
// document that is not XML-RPC or breaks a Limits bound (CodeInvalidRequest),
// or a value that does not fit its Go target (CodeInvalidParams). path names
// where it happened, innermost first (it is built while unwinding).
type codecError struct {
	code int
	path []string
	msg  string
	err  error // underlying read error, if any
}

func (e *codecError) Error() string {
	var b []byte
	for i := len(e.path) - 1; i >= 0; i-- {
		b = append(b, e.path[i]...)
		b = append(b, ": "...)
	}
	return string(append(b, e.msg...))
}

func (e *codecError) Unwrap() error { return e.err }

// atPath adds a path segment (outer to the ones already there) to a codec error.
func atPath(err error, seg string) error {
	if ce, ok := err.(*codecError); ok && ce.code != CodeParse {
		ce.path = append(ce.path, seg)
	}
	return err
}

// faultOf maps an error from decoding a call to the fault sent back.
func faultOf(err error) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	var ce *codecError
	if errors.As(err, &ce) {
		return &Fault{Code: ce.code, Message: ce.Error()}
	}
	return &Fault{Code: CodeParse, Message: err.Error()}
}
