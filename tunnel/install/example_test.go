package install_test

import (
	"context"
	"fmt"
	"os"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/install"
)

// Install rpcssh serve on a host over one SSH connection and keep its
// password for later calls.
func ExampleInstall() {
	ctx := context.Background()
	c, err := tunnel.Dial(ctx, tunnel.Config{
		Addr:            "ec2-1-2-3-4.compute.amazonaws.com:22",
		User:            "ubuntu",
		KnownHostsFiles: []string{os.ExpandEnv("$HOME/.ssh/known_hosts")},
		// Auth: see tunnel.LoadKey and tunnel.AgentSigners.
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	self, _ := os.Executable() // must be an rpcssh built for the host
	res, err := install.Install(ctx, c, install.Options{
		Self:     self,
		Progress: func(s install.Step) { fmt.Printf("%s: %s\n", s.Name, s.Detail) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	creds, err := install.DefaultCredentials()
	if err == nil {
		err = creds.Save(install.CredentialKey("ubuntu", "ec2-1-2-3-4.compute.amazonaws.com:22"), res.Password)
	}
	fmt.Println(res.Mode, res.Server.Version, err)
}
