// Package control shares one verified SSH connection among many processes,
// as OpenSSH's ControlMaster does.
//
// A master process holds a *tunnel.Client and serves other processes of
// the same user over a Unix control socket: each request opens one channel
// (a TCP or Unix socket target on the remote side) and splices it to the
// requester. A warm call then costs a channel open instead of TCP, key
// exchange, host-key check and authentication.
//
// # Naming and trust
//
// The socket's name is a hash of an [Identity]: everything that decides
// which host is reached and how it is trusted (user, address, jump chain,
// proxy command, known_hosts files, strictness). A caller never reaches a
// connection made under other trust settings, because it looks under
// another name. Sockets live in a private directory ([MakeDir]: mode 0700,
// owned by the user); the socket itself is 0600 and the master checks each
// peer's uid (SO_PEERCRED on Linux, LOCAL_PEERCRED on macOS). Where the
// peer's uid cannot be learnt, [Listen] fails with [ErrUnsupported].
//
// # Lifetime
//
// [Serve] returns when the master has had no open stream for
// [MasterConfig].Idle (ControlPersist), when its SSH link dies, on a stop
// request ([Stop]) or when its context is done. Exactly one process holds
// a socket: [Listen] takes a lock file beside it, so of two processes
// racing to become the master one wins and the other gets
// [ErrMasterRunning] and uses the winner. [Watch] follows a master's life
// and says why it ended; [List] and [Query] describe live masters.
//
// With [MasterConfig].Prefetch the master keeps the next channel to the
// last target open ahead of the request, so that over a slow link a warm
// request costs no round trip of its own before its data flows.
//
// # Callers
//
// [Dial] opens a stream through a master. Every failure before the master
// has accepted the request (no socket, a stale socket, a master that does
// not answer or has lost its link) is an [*UnavailableError], on which a
// caller dials the host itself: a master never makes a call fail that
// would have succeeded without it.
//
// [DialOpenSSH] opens a stream through an OpenSSH master (ssh -M -S path)
// with the stdio-forward request of OpenSSH's mux protocol.
package control
