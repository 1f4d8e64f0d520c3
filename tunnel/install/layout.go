package install

import "path"

// Layout is where an install puts things on the host, all under the
// user's home:
//
//	~/.local/lib/rpcssh/VERSION/rpcssh   the binaries, one directory per version
//	~/.local/lib/rpcssh/install.conf     what the install did (mode, port, version)
//	~/.local/lib/rpcssh/serve.pid|.log   a detached serve's pid and log
//	~/.local/bin/rpcssh                  a symlink to the current version
//	~/.config/rpcssh/password            the server's password (0600)
//	~/.config/rpcssh/methods.toml        the methods file, if one was given
//	~/.config/systemd/user/rpcssh.service  the user unit, if used
//	~/.local/state/rpcssh                job state (kept by Uninstall unless purged)
//
// A system unit ([ModeSystem]) is /etc/systemd/system/rpcssh-USER.service.
type Layout struct {
	Home string // the user's home directory on the host
	User string // the user's name on the host
}

func (l Layout) LibDir() string              { return path.Join(l.Home, ".local/lib/rpcssh") }
func (l Layout) VersionDir(id string) string { return path.Join(l.LibDir(), id) }
func (l Layout) Binary(id string) string     { return path.Join(l.VersionDir(id), "rpcssh") }
func (l Layout) Record() string              { return path.Join(l.LibDir(), "install.conf") }
func (l Layout) PidFile() string             { return path.Join(l.LibDir(), "serve.pid") }
func (l Layout) LogFile() string             { return path.Join(l.LibDir(), "serve.log") }
func (l Layout) Link() string                { return path.Join(l.Home, ".local/bin/rpcssh") }
func (l Layout) ConfigDir() string           { return path.Join(l.Home, ".config/rpcssh") }
func (l Layout) PasswordFile() string        { return path.Join(l.ConfigDir(), "password") }
func (l Layout) MethodsFile() string         { return path.Join(l.ConfigDir(), "methods.toml") }
func (l Layout) StateDir() string            { return path.Join(l.Home, ".local/state/rpcssh") }
func (l Layout) UserUnit() string            { return path.Join(l.Home, ".config/systemd/user", UserUnitName) }

// SystemUnitName is the system unit's name for this user.
func (l Layout) SystemUnitName() string { return "rpcssh-" + l.User + ".service" }

// SystemUnit is the system unit's path.
func (l Layout) SystemUnit() string { return path.Join("/etc/systemd/system", l.SystemUnitName()) }

// UserUnitName is the name of the systemd user unit.
const UserUnitName = "rpcssh.service"

// createdDirs are the directories an install may create, deepest first,
// so Uninstall can remove those left empty.
func (l Layout) createdDirs() []string {
	return []string{
		path.Join(l.Home, ".config/systemd/user"),
		path.Join(l.Home, ".config/systemd"),
		l.ConfigDir(),
		path.Join(l.Home, ".config"),
		path.Join(l.Home, ".local/bin"),
		path.Join(l.Home, ".local/lib"),
		path.Join(l.Home, ".local/state"),
		path.Join(l.Home, ".local"),
	}
}
