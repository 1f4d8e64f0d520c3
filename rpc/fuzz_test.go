package rpc_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

// Fuzz targets for both decoders: no input may panic or hang, and whatever
// decodes must re-encode and decode to the same values.

func addSeeds(f *testing.F, glob string, extra ...string) {
	files, err := filepath.Glob(filepath.Join("testdata", glob))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

var edgeValues = []string{
	`<value>untyped &amp; <![CDATA[<cdata>]]></value>`,
	`<value><ex:nil/></value>`,
	`<value><ex:i8>-9223372036854775808</ex:i8></value>`,
	`<value><biginteger>99999999999999999999</biginteger></value>`,
	`<value><dateTime.iso8601>2026-01-01T12:00:00+02:00</dateTime.iso8601></value>`,
	`<value><dateTime.iso8601>00000101T00:30:00+01:00</dateTime.iso8601></value>`,
	`<value><base64>
aGk=
</base64></value>`,
	`<value><array><data><value><struct><member><name>a</name><value><i4>1</i4></value></member></struct></value></data></array></value>`,
	`<value><string>a&#13;&#x10FFFF;b</string></value>`,
	`<value><double>-0</double></value>`,
	`<value><spam/></value>`,
}

func FuzzDecodeCall(f *testing.F) {
	var extra []string
	for _, v := range edgeValues {
		extra = append(extra, `<?xml version="1.0"?><methodCall><methodName> m.x </methodName><params><param>`+v+`</param></params></methodCall>`)
	}
	extra = append(extra,
		`<methodCall><methodName>m</methodName></methodCall>`,
		`<!DOCTYPE x [<!ENTITY a "b">]><methodCall><methodName>&a;</methodName></methodCall>`,
		`<methodCall><methodName>m</methodName><params><param><value><array><data><value><array><data>`,
		"<methodCall>\r\n<methodName>m\r</methodName><!-- c --><?pi x?></methodCall>",
	)
	addSeeds(f, "call_*.xml", extra...)
	f.Fuzz(func(t *testing.T, data []byte) {
		method, params, err := rpc.DecodeCall(bytes.NewReader(data), rpc.Limits{})
		// The in-place path (*bytes.Buffer) and tiny reads (buffer
		// boundaries everywhere) must agree with the plain reader.
		for _, r := range []io.Reader{bytes.NewBuffer(bytes.Clone(data)), &chunkReader{b: data, n: 3}} {
			m2, p2, err2 := rpc.DecodeCall(r, rpc.Limits{})
			if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() || m2 != method || !reflect.DeepEqual(p2, params) {
				t.Fatalf("%T decodes differently: %q %#v %v; want %q %#v %v", r, m2, p2, err2, method, params, err)
			}
		}
		if err != nil {
			var fault *rpc.Fault
			if !errors.As(err, &fault) || fault.Code == 0 {
				t.Fatalf("DecodeCall error %v carries no fault code", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := rpc.EncodeCall(&buf, method, params); err != nil {
			if strings.Contains(err.Error(), "has no dateTime.iso8601 form") {
				return // a zone pushed the year out of 0000-9999 in UTC
			}
			t.Fatalf("decoded call does not re-encode: %v\n%q", err, data)
		}
		method2, params2, err := rpc.DecodeCall(&buf, rpc.Limits{})
		if err != nil {
			t.Fatalf("re-encoded call does not decode: %v\n%s", err, buf.Bytes())
		}
		if method2 != strings.TrimSpace(method) || !reflect.DeepEqual(utc(params2), utc(params)) {
			t.Fatalf("round trip changed the call:\n%q %#v\n%q %#v", method, params, method2, params2)
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	var extra []string
	for _, v := range edgeValues {
		extra = append(extra, `<?xml version="1.0"?><methodResponse><params><param>`+v+`</param></params></methodResponse>`)
	}
	extra = append(extra,
		`<methodResponse><params/></methodResponse>`,
		`<methodResponse><fault><value><struct><member><name>faultCode</name><value>x</value></member></struct></value></fault></methodResponse>`,
		`<html><body>oops</body></html>`,
	)
	addSeeds(f, "response_*.xml", extra...)
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		err := rpc.DecodeResponse(bytes.NewReader(data), rpc.Limits{}, &v)
		for _, r := range []io.Reader{bytes.NewBuffer(bytes.Clone(data)), &chunkReader{b: data, n: 3}} {
			var v2 any
			err2 := rpc.DecodeResponse(r, rpc.Limits{}, &v2)
			if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() || !reflect.DeepEqual(v2, v) {
				t.Fatalf("%T decodes differently: %#v %v; want %#v %v", r, v2, err2, v, err)
			}
		}
		var fault *rpc.Fault
		var buf bytes.Buffer
		switch {
		case errors.As(err, &fault):
			if err := rpc.EncodeFault(&buf, fault); err != nil {
				t.Fatal(err)
			}
			err2 := rpc.DecodeResponse(&buf, rpc.Limits{}, nil)
			var fault2 *rpc.Fault
			if !errors.As(err2, &fault2) || *fault2 != *fault {
				t.Fatalf("fault round trip: %v, want %v", err2, fault)
			}
			return
		case err != nil:
			return
		}
		if err := rpc.EncodeResponse(&buf, v); err != nil {
			if strings.Contains(err.Error(), "has no dateTime.iso8601 form") {
				return
			}
			t.Fatalf("decoded value does not re-encode: %v\n%q", err, data)
		}
		var v2 any
		if err := rpc.DecodeResponse(&buf, rpc.Limits{}, &v2); err != nil {
			t.Fatalf("re-encoded response does not decode: %v\n%s", err, buf.Bytes())
		}
		if !reflect.DeepEqual(utc(v2), utc(v)) {
			t.Fatalf("round trip changed the value:\n%#v\n%#v", v, v2)
		}
	})
}

// utc normalizes times in natural values to UTC (the encoder sends UTC).
func utc(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = utc(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = utc(e)
		}
		return out
	}
	return v
}
