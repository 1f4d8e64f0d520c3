// Package tunnel connects to an SSH server the way OpenSSH's ssh does and
// carries many connections over that one SSH connection: forwarded TCP
// ports (direct-tcpip) and unix sockets (direct-streamlocal@openssh.com).
//
// Security model: the server's host key is always verified, against
// OpenSSH known_hosts files (hashed entries, [host]:port, @cert-authority,
// @revoked) or a caller's ssh.HostKeyCallback. There is no insecure
// default: a Config with neither fails with ErrNoHostKeyCheck. The host
// key algorithms are taken from the entries known for the host, so a host
// known by one key type is never asked for another (which x/crypto would
// report as a false key mismatch). Unknown and changed keys come back as
// *UnknownHostError and *HostKeyChangedError with the fingerprint and the
// known_hosts file and line; Config.AcceptNew adds a hashed entry for new
// hosts only.
//
// Robustness: the context given to Dial bounds the TCP connect and the SSH
// handshake (x/crypto's own timeout covers only the connect), keepalives
// detect a frozen or vanished peer (Client.Wait returns), ProxyJump chains
// verify every hop, and on Linux the SSH socket re-arms TCP_QUICKACK to
// avoid the 40 ms Nagle x delayed-ACK stall against OpenSSH's sshd.
//
// # Resolving a destination as ssh does
//
// Dial reads nothing implicitly: everything it uses is in its Config.
// Resolve (and Resolver, for many destinations) is the separate, explicit
// step that turns "lab" into a Config the way OpenSSH 9.2 does: ssh_config
// (Host and Match blocks, Include, tokens, ssh's case rules, refusing what
// ssh refuses), ssh's command-line flags as ResolveOptions (-l -p -i -J -F
// -o), the agent (IdentityAgent), the key files (refusing unprotected
// ones), the known_hosts files, and ProxyJump or ProxyCommand.
// DialDestination does both in one call. Keywords lists what is supported.
// The package never logs or prints: -v style lines go to
// ResolveOptions.Verbose when the caller gives one.
//
// Use Client.DialContext as an http.Transport's DialContext, or
// Client.Forward to serve a local port. See the Dial, Resolve and
// DialDestination examples.
package tunnel
