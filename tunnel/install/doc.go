// Package install puts rpcssh serve on a host over an SSH connection and
// keeps it running there: the same job VS Code Remote-SSH and Mutagen do
// for their servers, for a host that has nothing but sshd.
//
// Every step runs over one connection (see [Conn]; *tunnel.Client is one):
//
//  1. probe: uname -s -m, $HOME, whether `systemctl --user` works and
//     lingering is on, whether sudo works without a password, and the
//     install already there (its record and version);
//  2. binary: the binary to install must match the host's OS and
//     architecture ([CheckBinary] reads its ELF or Mach-O header; nothing
//     is ever downloaded; [BuildCommand] says how to make one);
//  3. upload: the binary is copied with `cat` over an exec channel to a
//     temporary name in ~/.local/lib/rpcssh/VERSION/, its SHA-256 is
//     checked on the host (sha256sum, else shasum -a 256) before it is made
//     executable and renamed into place, and ~/.local/bin/rpcssh points at
//     it. A version already there with the right checksum is not copied
//     again;
//  4. secret: the server's password is made on the host from its own
//     /dev/urandom into ~/.config/rpcssh/password (0600) unless one is
//     there, and read back over the channel's stdout: it is never in the
//     argv of any process on either side. The caller stores it (see
//     [Credentials]);
//  5. methods: an optional methods file is checked with rpc/program's
//     parser before anything changes on the host, then copied to
//     ~/.config/rpcssh/methods.toml;
//  6. service: serve runs under a systemd user unit when `systemctl --user`
//     works (lingering is enabled when the host allows it, else
//     [Result.Notes] says the admin's command), under a system unit with
//     [ModeSystem] when sudo works, else detached (setsid, pid file, log
//     file), which does not survive a reboot;
//  7. check: the new serve must answer rpcssh.version through the SSH
//     connection within [Options.StartTimeout] (a detached serve that
//     exited, on a busy port say, is not waited for); if it does not, the
//     previous version is put back and restarted. Once the new one answers,
//     older versions are removed.
//
// [Uninstall] removes everything an install created on the host; job state
// (~/.local/state/rpcssh) is kept unless asked to purge.
//
// Errors are *StepError: the step that failed and the host's own message.
//
// Paths on the host are fixed: see [Layout].
package install
