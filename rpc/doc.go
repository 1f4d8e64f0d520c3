// Package rpc implements XML-RPC (http://xmlrpc.com/spec.md): one streaming
// codec used by an http.Handler server and a concurrent client.
//
// # Values
//
// Decoding maps XML-RPC values onto Go values by reflection, like
// encoding/json: structs (members matched to `xmlrpc:"name"` tags or field
// names, exact first then case-insensitively; unknown members ignored), maps
// with string keys, slices, arrays, pointers, time.Time, []byte (base64) and
// any. Into any, values decode to natural Go values: int, i4, i1, i2, i8 and
// biginteger (when it fits) to int64; boolean to bool; string and the untyped
// value (whitespace kept) to string; double to float64; dateTime.iso8601 to
// time.Time; base64 to []byte; nil to nil; array to []any; struct to
// map[string]any. Namespace prefixes are ignored (ex:nil, ex:i8). An int
// value fits any Go integer or float it does not overflow; a double fits
// floats; <nil/> fits pointers, interfaces, slices and maps.
//
// A value that does not fit its target is an error naming its path, params
// counted from 1 and array elements from 0:
//
//	param 2: member "x": element 0: want int, got string
//
// The server answers such errors with CodeInvalidParams.
//
// dateTime.iso8601 is read in the layouts real peers send: 20060102T15:04:05,
// 2006-01-02T15:04:05 and 20060102T150405, with optional fractional seconds
// and an optional zone (Z, ±hh:mm, ±hhmm); without a zone it is UTC. base64
// may contain line breaks and spaces.
//
// Encoding writes Go integers within 32 bits as <int> and others as <i8>
// (I8 forces <i8>); uints likewise (above MaxInt64 is an error); floats as
// <double> in plain decimal (NaN and infinities are errors); time.Time as
// 20060102T15:04:05 of t.UTC(); []byte as base64; a nil pointer or interface
// as <nil/>; nil slices and maps as an empty array or struct; maps (sorted by
// key) and structs (`xmlrpc:"name,omitempty"`, `xmlrpc:"-"`, untagged
// embedded structs flattened) as struct. Strings and names are escaped (&, <,
// > and \r as &#xD;). Characters that XML 1.0 cannot carry at all (control
// characters other than tab, newline and carriage return, U+FFFE, U+FFFF,
// invalid UTF-8) make encoding fail with an error naming the value's path;
// only fault messages are sent with them replaced by U+FFFD.
//
// # Safety
//
// Documents must be UTF-8 (an encoding declaration is not interpreted).
// The decoder is a streaming tokenizer that refuses DOCTYPE declarations
// (no entity expansion, no external entities), checks well-formedness and
// character validity, and enforces Limits: body size, nesting depth, params
// per call and members per array or struct. It stops at the first violation
// without reading the rest of the input, so a million nested arrays cost a
// few kilobytes of reading, not a stack overflow.
//
// # Methods
//
// See Method for the functions that can be registered and how their results
// and errors are sent. The built-in methods are system.listMethods,
// system.methodHelp, system.methodSignature, system.multicall (a nested
// system.multicall is refused with a fault entry) and system.getCapabilities
// (faults_interop, system.multicall, introspection and nil).
package rpc
