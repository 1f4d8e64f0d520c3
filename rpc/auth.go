package rpc

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"unicode/utf8"
)

// basicAuth checks HTTP Basic credentials (RFC 7617).
//
// Parsing is left to [http.Request.BasicAuth], which matches the scheme
// name case-insensitively as RFC 7617 §2 and RFC 9110 §11.1 require (so
// "basic dXNlcjpwYXNz" is accepted), demands padded standard base64 and
// splits user-id and password at the first colon, so a password may contain
// ':' while "pass:anything" never matches "pass". Credentials that are not
// valid UTF-8 are refused (the charset="UTF-8" parameter of the challenge
// tells clients to send UTF-8).
//
// Both the user-id and the password are compared as SHA-256 digests with
// [subtle.ConstantTimeCompare], and both comparisons always run, so neither
// the length nor the content of either secret shows in the timing.
type basicAuth struct {
	user, pass [sha256.Size]byte
	challenge  string // WWW-Authenticate value
}

// newBasicAuth returns nil when password is empty: no authentication.
func newBasicAuth(username, password, realm string) *basicAuth {
	if password == "" {
		return nil
	}
	if realm == "" {
		realm = "rpcssh"
	}
	return &basicAuth{
		user:      sha256.Sum256([]byte(username)),
		pass:      sha256.Sum256([]byte(password)),
		challenge: "Basic realm=" + quoteRealm(realm) + `, charset="UTF-8"`,
	}
}

// quoteRealm makes an HTTP quoted-string (RFC 9110 §5.6.4) of realm:
// a double quote and a backslash are escaped, control characters (which no header may carry)
// are dropped.
func quoteRealm(realm string) string {
	b := make([]byte, 0, len(realm)+2)
	b = append(b, '"')
	for i := 0; i < len(realm); i++ {
		switch c := realm[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 && c != '\t' || c == 0x7f:
		default:
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}

// check reports whether r carries the configured credentials. A nil
// *basicAuth accepts every request. It never reads the request body.
func (a *basicAuth) check(r *http.Request) bool {
	if a == nil {
		return true
	}
	user, pass, ok := r.BasicAuth()
	if !ok || !utf8.ValidString(user) || !utf8.ValidString(pass) {
		return false
	}
	u := sha256.Sum256([]byte(user))
	p := sha256.Sum256([]byte(pass))
	return subtle.ConstantTimeCompare(u[:], a.user[:])&subtle.ConstantTimeCompare(p[:], a.pass[:]) == 1
}
