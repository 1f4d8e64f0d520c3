package tunnel

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Destination is a parsed SSH destination: [user@]host[:port].
type Destination struct {
	User string // "" when not given
	Host string // a name, alias or IP address, without brackets
	Port string // "" when not given
}

// ParseDestination reads the forms ssh accepts: host, user@host,
// host:port, [v6]:port, a bare IPv6 address and ssh://user@host:port.
// Errors are *DestinationError.
func ParseDestination(s string) (Destination, error) {
	var d Destination
	bad := func(reason string) (Destination, error) {
		return Destination{}, &DestinationError{Dest: s, Reason: reason}
	}
	if s == "" {
		return bad("empty")
	}
	if strings.HasPrefix(s, "ssh://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return bad("not a valid ssh:// URL")
		}
		if u.User != nil {
			d.User = u.User.Username()
		}
		d.Host, d.Port = u.Hostname(), u.Port()
		return checkDestPort(s, d)
	}
	rest := s
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		d.User, rest = rest[:i], rest[i+1:]
		if d.User == "" {
			return bad("empty user before @")
		}
	}
	switch {
	case strings.HasPrefix(rest, "["):
		if h, p, err := net.SplitHostPort(rest); err == nil {
			d.Host, d.Port = h, p
		} else if strings.HasSuffix(rest, "]") {
			d.Host = rest[1 : len(rest)-1]
		} else {
			return bad("unbalanced [")
		}
	case strings.Count(rest, ":") == 1:
		h, p, err := net.SplitHostPort(rest)
		if err != nil {
			return bad(err.Error())
		}
		d.Host, d.Port = h, p
	default:
		d.Host = rest // a name, or a bare IPv6 address
	}
	if d.Host == "" {
		return bad("empty host")
	}
	return checkDestPort(s, d)
}

func checkDestPort(s string, d Destination) (Destination, error) {
	if d.Port != "" {
		if n, err := strconv.Atoi(d.Port); err != nil || n < 1 || n > 65535 {
			return Destination{}, &DestinationError{Dest: s, Reason: "port " + strconv.Quote(d.Port) + " is not 1-65535"}
		}
	}
	return d, nil
}
