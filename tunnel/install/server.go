package install

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

// VersionMethod is the method a serve of this version answers with its
// ServerInfo.
const VersionMethod = "rpcssh.version"

// ServerInfo is the answer of rpcssh.version.
type ServerInfo struct {
	Version     string    `xmlrpc:"version"`      // Go module version, "(devel)" when unknown
	GoVersion   string    `xmlrpc:"go"`           // runtime.Version()
	OS          string    `xmlrpc:"os"`           // GOOS
	Arch        string    `xmlrpc:"arch"`         // GOARCH
	PID         int       `xmlrpc:"pid"`          // serve's process id
	Executable  string    `xmlrpc:"executable"`   // os.Executable(), symlinks resolved
	Started     time.Time `xmlrpc:"started"`      // when serve started
	UptimeS     int64     `xmlrpc:"uptime_s"`     // seconds since then
	MethodsFile string    `xmlrpc:"methods_file"` // serve --methods, "" when none
}

// Username is the XML-RPC user name an install serves (serve's default).
const Username = "user"

// QueryServer calls rpcssh.version on the serve listening on the host's
// 127.0.0.1:port, through c. Errors are those of rpc.Client.Call.
func QueryServer(ctx context.Context, c Conn, port int, password string) (ServerInfo, error) {
	var info ServerInfo
	client, tr, err := serverClient(c, port, password)
	if err != nil {
		return info, err
	}
	defer tr.CloseIdleConnections()
	err = client.Call(ctx, VersionMethod, nil, &info)
	return info, err
}

// RunningJobs counts the jobs in state "running" that jobs.list reports;
// 0 with no error when serve has no jobs.* methods (no methods file).
func RunningJobs(ctx context.Context, c Conn, port int, password string) (int, error) {
	client, tr, err := serverClient(c, port, password)
	if err != nil {
		return 0, err
	}
	defer tr.CloseIdleConnections()
	var list []map[string]any
	if err := client.Call(ctx, "jobs.list", nil, &list); err != nil {
		var fault *rpc.Fault
		if errors.As(err, &fault) && fault.Code == rpc.CodeMethodNotFound {
			return 0, nil
		}
		return 0, err
	}
	n := 0
	for _, j := range list {
		if j["state"] == "running" {
			n++
		}
	}
	return n, nil
}

func serverClient(c Conn, port int, password string) (*rpc.Client, *http.Transport, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.DialContext(ctx, "tcp", addr)
		},
		DisableCompression: true,
	}
	client, err := rpc.NewClient(rpc.ClientConfig{
		URL:        "http://" + addr + "/RPC2",
		Username:   Username,
		Password:   password,
		HTTPClient: &http.Client{Transport: tr},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("install: %w", err)
	}
	return client, tr, nil
}
