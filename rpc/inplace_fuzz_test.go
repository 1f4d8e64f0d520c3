package rpc

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/iotest"
)

// FuzzDecodeInPlace checks the server's zero-copy path: a body handed over
// for good (owned) is decoded in place, texts used where they lie, line ends
// normalized in the consumed input. With the size threshold lowered to one
// byte, every text takes that path; it must decode exactly as a plain
// reader does (and as a reader cut at every few bytes).
func FuzzDecodeInPlace(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
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
	for _, s := range []string{
		"<methodCall><methodName>m</methodName><params><param><value>a\r\nb\rc</value></param><param><value><string>x&lt;y\r</string></value></param></params></methodCall>",
		"<methodCall><methodName>m</methodName><params><param><value><string>ab<!-- c -->cd<![CDATA[e\r\nf]]>g</string></value></param></params></methodCall>",
		"<methodResponse><params><param><value><array><data><value>one</value><value><string>two\r</string></value></data></array></value></param></params></methodResponse>",
		"<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int></value></member><member><name>faultString</name><value>bad\r\nthing</value></member></struct></value></fault></methodResponse>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		decode := func(d *decoder) (method string, params []any, err error) {
			if bytes.Contains(data, []byte("<methodResponse")) {
				var x any
				_, err = d.response(func(i int) error {
					var err error
					x, err = d.natural()
					params = append(params, x)
					return err
				})
				return "", params, err
			}
			if method, err = d.callHeader(); err == nil {
				_, err = d.callParams(func(int) error {
					x, err := d.natural()
					params = append(params, x)
					return err
				})
			}
			return method, params, err
		}
		plain := newBytesDecoder(bytes.Clone(data), false, Limits{})
		method, params, err := decode(plain)
		if len(data) == 0 {
			return
		}
		streamed := newDecoder(iotest.HalfReader(bytes.NewReader(data)), int64(len(data)), Limits{})
		streamed.s.buf = streamed.s.buf[:min(len(streamed.s.buf), 7)] // buffer boundaries everywhere
		owned := newBytesDecoder(bytes.Clone(data), true, Limits{})
		owned.s.minTake = 1
		for name, d := range map[string]*decoder{"streamed": streamed, "owned": owned} {
			m2, p2, err2 := decode(d)
			if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() || m2 != method || !reflect.DeepEqual(p2, params) {
				t.Fatalf("%s decodes differently: %q %#v %v; want %q %#v %v", name, m2, p2, err2, method, params, err)
			}
		}
	})
}
