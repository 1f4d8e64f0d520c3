package tunnel

import (
	"strconv"
	"strings"
	"time"
)

// KeywordStatus says what the package does with an ssh_config keyword.
type KeywordStatus int

const (
	// KeywordSupported keywords change what Resolve produces.
	KeywordSupported KeywordStatus = iota + 1
	// KeywordIgnored keywords are valid and read, but have no effect here
	// (Resolve notes them at verbosity 1).
	KeywordIgnored
)

type keyword struct {
	status KeywordStatus
	single bool                  // exactly one argument
	check  func([]string) string // a value ssh refuses: the message
}

// Keywords returns every ssh_config keyword this package accepts, lower
// case, with its status. Any other keyword is refused (*ConfigError) unless
// an IgnoreUnknown pattern matches it, as ssh does.
func Keywords() map[string]KeywordStatus {
	out := make(map[string]KeywordStatus, len(keywords))
	for k, v := range keywords {
		out[k] = v.status
	}
	return out
}

var keywords = func() map[string]keyword {
	m := map[string]keyword{
		"hostname":              {status: KeywordSupported, single: true},
		"user":                  {status: KeywordSupported, single: true},
		"port":                  {status: KeywordSupported, single: true, check: checkPort},
		"identityfile":          {status: KeywordSupported, single: true},
		"identitiesonly":        {status: KeywordSupported, single: true, check: checkYesNo},
		"identityagent":         {status: KeywordSupported, single: true},
		"certificatefile":       {status: KeywordSupported, single: true},
		"userknownhostsfile":    {status: KeywordSupported},
		"globalknownhostsfile":  {status: KeywordSupported},
		"stricthostkeychecking": {status: KeywordSupported, single: true, check: checkStrict},
		"hostkeyalias":          {status: KeywordSupported, single: true},
		"proxycommand":          {status: KeywordSupported},
		"proxyjump":             {status: KeywordSupported, single: true},
		"connecttimeout":        {status: KeywordSupported, single: true, check: checkSeconds},
		"connectionattempts":    {status: KeywordSupported, single: true, check: checkCount},
		"serveraliveinterval":   {status: KeywordSupported, single: true, check: checkSeconds},
		"serveralivecountmax":   {status: KeywordSupported, single: true, check: checkCount},
		"batchmode":             {status: KeywordSupported, single: true, check: checkYesNo},
		"ignoreunknown":         {status: KeywordSupported, single: true},
		"controlmaster":         {status: KeywordSupported, single: true, check: checkControlMaster},
		"controlpath":           {status: KeywordSupported, single: true},
		"controlpersist":        {status: KeywordSupported, single: true, check: checkControlPersist},
		"addkeystoagent":        {status: KeywordIgnored, single: true},
	}
	for _, k := range strings.Fields(`addressfamily bindaddress bindinterface canonicaldomains
		canonicalizefallbacklocal canonicalizehostname canonicalizemaxdots canonicalizepermittedcnames
		casignaturealgorithms challengeresponseauthentication checkhostip ciphers clearallforwardings
		compression dynamicforward enableescapecommandline
		enablesshkeysign escapechar exitonforwardfailure fingerprinthash forkafterauthentication
		forwardagent forwardx11 forwardx11timeout forwardx11trusted gatewayports
		gssapiauthentication gssapidelegatecredentials gssapikeyexchange gssapiclientidentity
		gssapiserveridentity gssapirenewalforcesrekey gssapitrustdns gssapikexalgorithms
		hashknownhosts hostbasedacceptedalgorithms hostbasedauthentication hostbasedkeytypes
		hostkeyalgorithms ipqos kbdinteractiveauthentication kbdinteractivedevices kexalgorithms
		knownhostscommand localcommand localforward loglevel logverbose macs
		nohostauthenticationforlocalhost numberofpasswordprompts passwordauthentication
		permitlocalcommand permitremoteopen pkcs11provider preferredauthentications
		proxyusefdpass pubkeyacceptedalgorithms pubkeyacceptedkeytypes pubkeyauthentication
		rekeylimit remotecommand remoteforward requesttty requiredrsasize revokedhostkeys
		securitykeyprovider sendenv sessiontype setenv smartcarddevice stdinnull
		streamlocalbindmask streamlocalbindunlink syslogfacility tcpkeepalive keepalive tunnel
		tunneldevice updatehostkeys verifyhostkeydns visualhostkey xauthlocation
		protocol cipher rhostsrsaauthentication rsaauthentication compressionlevel useroaming
		usersh fallbacktorsh useprivilegedport afstokenpassing kerberosauthentication
		kerberostgtpassing dsaauthentication skeyauthentication tisauthentication
		gssapidelegatecreds`) {
		if _, ok := m[k]; !ok {
			m[k] = keyword{status: KeywordIgnored}
		}
	}
	return m
}()

// parsePort reads a port as ssh's a2port does: decimal (a sign and leading
// zeros allowed), 1-65535.
func parsePort(s string) (int, bool) {
	if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= 65535
}

func checkPort(args []string) string {
	if _, ok := parsePort(args[0]); !ok {
		return "badly formatted port number " + strconv.Quote(args[0])
	}
	return ""
}

func checkYesNo(args []string) string {
	switch strings.ToLower(args[0]) {
	case "yes", "no", "true", "false":
		return ""
	}
	return "unsupported option " + strconv.Quote(args[0])
}

func checkStrict(args []string) string {
	switch strings.ToLower(args[0]) {
	case "yes", "no", "true", "false", "ask", "accept-new", "off":
		return ""
	}
	return "unsupported option " + strconv.Quote(args[0])
}

// parseSeconds reads an ssh time value: a number of seconds, or units
// such as 1m30s.
func parseSeconds(s string) (time.Duration, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, n >= 0
	}
	var total time.Duration
	num := ""
	for _, r := range strings.ToLower(s) {
		if r >= '0' && r <= '9' {
			num += string(r)
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil {
			return 0, false
		}
		unit := map[rune]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[r]
		if unit == 0 {
			return 0, false
		}
		total += time.Duration(n) * unit
		num = ""
	}
	if num != "" {
		return 0, false
	}
	return total, true
}

func checkSeconds(args []string) string {
	if strings.EqualFold(args[0], "none") {
		return ""
	}
	if _, ok := parseSeconds(args[0]); !ok {
		return "invalid time value " + strconv.Quote(args[0])
	}
	return ""
}

func checkCount(args []string) string {
	if n, err := strconv.Atoi(args[0]); err != nil || n < 0 {
		return "invalid number " + strconv.Quote(args[0])
	}
	return ""
}
