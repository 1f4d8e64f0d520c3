package rpc

import (
	"errors"
	"fmt"
	"io"
	"reflect"
)

// Codec entry points for programs that bring their own transport. Encoders
// write straight to w; on an error the output may be partial, so encode into
// a buffer if that matters.

// EncodeCall writes a <methodCall> of method with params, each element one param.
func EncodeCall(w io.Writer, method string, params []any) error {
	if err := writeCall(w, method, params); err != nil {
		return fmt.Errorf("rpc: encode call: %w", err)
	}
	return nil
}

// EncodeResponse writes a <methodResponse> with result as its one param.
// Use EncodeFault for a fault.
func EncodeResponse(w io.Writer, result any) error {
	if err := writeResponse(w, result); err != nil {
		return fmt.Errorf("rpc: encode response: %w", err)
	}
	return nil
}

// EncodeFault writes a fault <methodResponse>. Characters XML cannot carry in
// f.Message become U+FFFD.
func EncodeFault(w io.Writer, f *Fault) error {
	return writeFault(w, f)
}

// DecodeCall reads a <methodCall> and returns its method name and params as
// natural values (see the package doc), within lim. On an error that is not
// an I/O error, the returned *Fault (errors.As) is what a server should send.
func DecodeCall(r io.Reader, lim Limits) (method string, params []any, err error) {
	d := newDecoder(r, -1, lim)
	if method, err = d.callHeader(); err == nil {
		_, err = d.callParams(func(int) error {
			x, err := d.natural()
			params = append(params, x)
			return err
		})
	}
	if err != nil {
		return method, nil, decodeFailure("rpc: decode call", err)
	}
	return method, params, nil
}

// DecodeResponse reads a <methodResponse> into reply (a non-nil pointer;
// *any gives natural values; nil discards the result), within lim. A fault
// response is returned as a *Fault; other errors are not *Fault.
func DecodeResponse(r io.Reader, lim Limits, reply any) error {
	err := readResponse(r, lim, reply)
	var f *Fault
	if err != nil && !errors.As(err, &f) {
		return fmt.Errorf("rpc: decode response: %w", err)
	}
	return err
}

// decodeFailure keeps the codec error reachable with errors.As as a *Fault
// carrying the fault code a server would answer with.
func decodeFailure(op string, err error) error {
	return &decodeError{op: op, fault: faultOf(err), err: err}
}

type decodeError struct {
	op    string
	fault *Fault
	err   error
}

func (e *decodeError) Error() string   { return e.op + ": " + e.err.Error() }
func (e *decodeError) Unwrap() []error { return []error{e.fault, e.err} }

// readResponse reads a <methodResponse> into reply (nil: discard). A fault
// response is returned as a *Fault; errors of the response itself are not.
func readResponse(r io.Reader, lim Limits, reply any) error {
	return readResponseSized(r, -1, lim, reply)
}

// readResponseSized is readResponse of an r whose length is known to be
// size (Content-Length); -1: unknown. A large response of known size is
// read whole into one buffer of that size and decoded in place, so its
// long strings are views of it rather than copies grown as it streams in.
func readResponseSized(r io.Reader, size int64, lim Limits, reply any) error {
	v, err := replyValue(reply)
	if err != nil {
		return err
	}
	if size > maxPooledBuffer && size <= lim.withDefaults().MaxBodyBytes {
		body := make([]byte, size)
		if _, err := io.ReadFull(r, body); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // the body ended before its Content-Length
			}
			return err
		}
		return decodeResponse(newBytesDecoder(body, true, lim), v)
	}
	return decodeResponse(newDecoder(r, size, lim), v)
}

// replyValue is what reply points to; the zero Value for a nil reply.
func replyValue(reply any) (reflect.Value, error) {
	if reply == nil {
		return reflect.Value{}, nil
	}
	rv := reflect.ValueOf(reply)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return reflect.Value{}, errors.New("reply must be a non-nil pointer, not " + rv.Type().String())
	}
	return rv.Elem(), nil
}

// decodeResponse decodes a <methodResponse> with d into v (invalid: discard).
func decodeResponse(d *decoder, v reflect.Value) error {
	n, err := d.response(func(i int) error {
		if i > 0 {
			return d.invalid("more than one param in a response")
		}
		return d.value(v)
	})
	if err != nil {
		var f *Fault
		if errors.As(err, &f) {
			return f
		}
		return err
	}
	if n == 0 && v.IsValid() { // <params/>: no value, as for <nil/>
		v.SetZero()
	}
	return nil
}
