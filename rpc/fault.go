package rpc

import "strconv"

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
