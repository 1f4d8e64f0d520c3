package rpc

import (
	"context"
	"errors"
	"reflect"
	"strconv"
)

// system.multicall without memory amplification. Its calls are decoded into
// multicallCalls, a type the decoder recognises so that it stops at
// Limits.MaxMulticallCalls instead of building a million entries. Each
// call's result is encoded as soon as it returns, into the response being
// built, and dropped: the Go values of only one call are alive at a time.
// The encoded response is bounded by Limits.MaxBodyBytes while it is built
// (a result that would pass it becomes a fault entry and the calls after it
// are not run), held in chunks (never copied to grow), and written out
// as is, however many times the server writes the response.

// multicallCalls is the param of system.multicall.
type multicallCalls []any

var multicallCallsType = reflect.TypeFor[multicallCalls]()

// encodedValue is a <value> encoded ahead of time, in chunks.
type encodedValue struct {
	chunks [][]byte
	n      int64
}

var encodedValueType = reflect.TypeFor[*encodedValue]()

// encodedOf returns v's *encodedValue, or nil when v holds something else.
func encodedOf(v reflect.Value) *encodedValue {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if v.IsValid() && v.Type() == encodedValueType {
		return v.Interface().(*encodedValue)
	}
	return nil
}

// encoded writes ev's bytes as they are.
func (e *encoder) encoded(ev *encodedValue) error {
	if err := e.flush(); err != nil {
		return err
	}
	for _, c := range ev.chunks {
		if _, err := e.w.Write(c); err != nil {
			e.err = err
			return err
		}
	}
	return nil
}

const encodedChunk = 256 << 10

// errBudget is an entry that would take the response past its bound.
var errBudget = errors.New("response budget exhausted")

// budgetWriter appends to an encodedValue in chunks and fails once the
// total would pass max.
type budgetWriter struct {
	ev  *encodedValue
	max int64
}

func (b *budgetWriter) Write(p []byte) (int, error) {
	if b.ev.n+int64(len(p)) > b.max {
		return 0, errBudget
	}
	n := len(p)
	b.ev.n += int64(n)
	for len(p) > 0 {
		last := len(b.ev.chunks) - 1
		if last < 0 || len(b.ev.chunks[last]) == cap(b.ev.chunks[last]) {
			b.ev.chunks = append(b.ev.chunks, make([]byte, 0, max(encodedChunk, min(len(p), 4<<20))))
			last++
		}
		c := b.ev.chunks[last]
		k := copy(c[len(c):cap(c)], p)
		b.ev.chunks[last] = c[:len(c)+k]
		p = p[k:]
	}
	return n, nil
}

// append moves src's chunks to the end of dst.
func (dst *encodedValue) append(src *encodedValue) {
	dst.chunks = append(dst.chunks, src.chunks...)
	dst.n += src.n
}

// multicallEntryReserve is room kept for each call's entry, so that the
// fault entries written once the budget is spent still fit.
const multicallEntryReserve = 512

// multicall runs each call in turn and returns the encoded array of their
// entries. Nested system.multicall is refused with a fault entry; a result
// that cannot be encoded, or would take the response past
// Limits.MaxBodyBytes, becomes a fault entry too.
func (r *registry) multicall(ctx context.Context, calls multicallCalls) (any, error) {
	budget := r.lim.MaxBodyBytes - int64(len(calls)+1)*multicallEntryReserve
	if budget <= 0 {
		return nil, &Fault{Code: CodeInvalidRequest, Message: "system.multicall: " + strconv.Itoa(len(calls)) + " calls leave no room in the response limit"}
	}
	out := &encodedValue{}
	head := &budgetWriter{ev: out, max: 1 << 62}
	_, _ = head.Write([]byte("<value><array><data>"))
	spent := false
	for i, c := range calls {
		calls[i] = nil // the decoded call is not needed once run
		var entry any
		switch {
		case spent:
			entry = faultStruct(&Fault{Code: CodeInvalidRequest,
				Message: "not run: the multicall's response reached its limit of " + strconv.FormatInt(r.lim.MaxBodyBytes, 10) + " bytes"})
		default:
			entry = r.multicallOne(ctx, c)
		}
		one := &encodedValue{}
		e := newEncoder(&budgetWriter{ev: one, max: budget - (out.n - int64(len("<value><array><data>")))})
		var err error
		if ok, isOK := entry.([]any); isOK && len(ok) == 1 { // a result: paths as in a response
			e.raw("<value><array><data>")
			if err = e.value(reflect.ValueOf(&ok[0]).Elem()); err != nil {
				err = atPath(err, "result")
			}
			e.raw("</data></array></value>")
		} else {
			err = e.value(reflect.ValueOf(&entry).Elem())
		}
		if err == nil {
			err = e.flush()
		}
		entry = nil
		if err != nil {
			f := &Fault{Code: CodeInternal, Message: "encode result: " + err.Error()}
			if errors.Is(err, errBudget) || errors.Is(e.err, errBudget) {
				spent = true
				f = &Fault{Code: CodeInvalidRequest,
					Message: "result dropped: it would take the multicall's response past its limit of " + strconv.FormatInt(r.lim.MaxBodyBytes, 10) + " bytes"}
			}
			one = &encodedValue{}
			fe := newEncoder(&budgetWriter{ev: one, max: 1 << 62})
			fs := any(faultStruct(f))
			_ = fe.value(reflect.ValueOf(&fs).Elem())
			_ = fe.flush()
		}
		out.append(one)
	}
	_, _ = head.Write([]byte("</data></array></value>"))
	return out, nil
}
