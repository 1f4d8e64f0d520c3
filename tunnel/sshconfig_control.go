package tunnel

import (
	"crypto/sha1"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"time"
)

// ControlSettings are the connection-sharing keywords of ssh_config (and
// -o) for one destination: ControlMaster, ControlPath and ControlPersist.
// The package itself shares nothing; a caller that does (package
// tunnel/control, rpcssh's masters) reads them from Resolved.Control.
type ControlSettings struct {
	// Master is ControlMaster: "yes", "no", "ask", "auto" or "autoask"
	// ("true" and "false" read as yes and no); "" when unset.
	Master string
	// Path is ControlPath with "~" and the tokens %C %d %h %i %j %k %L %l
	// %n %p %r %u %% expanded as ssh expands them; "none"; "" when unset.
	Path string
	// Persist is ControlPersist: how long a master stays after its last
	// client. Negative means until it is stopped ("yes", or 0 as ssh
	// reads it); 0 is "no" (no master outlives its first client). Only
	// meaningful when PersistSet.
	Persist    time.Duration
	PersistSet bool
}

// Sharing reports whether ControlPath leaves connection sharing on: a
// ControlPath of none turns it off, as in ssh.
func (c ControlSettings) Sharing() bool {
	return !strings.EqualFold(c.Path, "none")
}

func checkControlMaster(args []string) string {
	switch strings.ToLower(args[0]) {
	case "yes", "no", "true", "false", "ask", "auto", "autoask":
		return ""
	}
	return "unsupported option " + strconv.Quote(args[0])
}

func checkControlPersist(args []string) string {
	switch strings.ToLower(args[0]) {
	case "yes", "no", "true", "false":
		return ""
	}
	if _, ok := parseSeconds(args[0]); !ok {
		return "invalid time value " + strconv.Quote(args[0])
	}
	return ""
}

// controlMaster normalizes a ControlMaster value as ssh -G prints it.
func controlMaster(v string) string {
	switch v = strings.ToLower(v); v {
	case "true":
		return "yes"
	case "false":
		return "no"
	}
	return v
}

// controlPersist reads a checked ControlPersist value.
func controlPersist(v string) time.Duration {
	switch strings.ToLower(v) {
	case "yes", "true":
		return -1
	case "no", "false":
		return 0
	}
	d, _ := parseSeconds(v)
	if d == 0 {
		return -1 // ssh: "If set to 0, the master connection will be kept in the background indefinitely"
	}
	return d
}

// expandControlPath expands a ControlPath as ssh.c does once the config is
// read: "~", then the client tokens, among them %C (connectionHash), %i
// (the local uid), %k (HostKeyAlias, else the alias) and %j (the last
// ProxyJump hop's host).
func (l *lookup) expandControlPath(v, where string) string {
	if strings.EqualFold(v, "none") {
		return "none"
	}
	jump := lastJumpHost(l.hc.ProxyJump)
	port := firstNonEmpty(l.hc.Port, "22")
	thisHost, _ := os.Hostname()
	l.extra = map[byte]string{
		'C': connectionHash(thisHost, l.hostName(), port, l.remoteUser(), jump),
		'i': strconv.Itoa(os.Getuid()),
		'k': firstNonEmpty(l.hc.HostKeyAlias, l.alias),
		'j': jump,
	}
	defer func() { l.extra = nil }()
	return l.expandPath(v, where)
}

// connectionHash is ssh's %C: the SHA-1 of the local host name, the host,
// port and remote user, and the jump host ("" without one, so that it
// equals the hash of ssh versions that left the jump host out).
func connectionHash(thisHost, host, port, user, jump string) string {
	h := sha1.New()
	for _, s := range []string{thisHost, host, port, user, jump} {
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// lastJumpHost is the host of the last hop of a ProxyJump list, as ssh's
// parse_jump keeps it for %j; "" when there is none.
func lastJumpHost(spec string) string {
	if spec == "" {
		return ""
	}
	hops, err := ParseProxyJump(spec)
	if err != nil || len(hops) == 0 {
		return ""
	}
	return hops[len(hops)-1].Host
}
