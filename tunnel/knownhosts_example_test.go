package tunnel_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
)

// Read known_hosts once and verify a whole fleet with it, instead of
// parsing the file again at every dial.
func ExampleReadKnownHosts() {
	home, _ := os.UserHomeDir()
	kh, err := tunnel.ReadKnownHosts(filepath.Join(home, ".ssh", "known_hosts"))
	if err != nil {
		fmt.Println(err)
		return
	}
	var auth []ssh.AuthMethod // from tunnel.LoadKey or tunnel.AgentSigners
	for _, addr := range []string{"web1:22", "web2:22", "web3:22"} {
		c, err := tunnel.Dial(context.Background(), tunnel.Config{Addr: addr, User: "deploy", Auth: auth, KnownHosts: kh})
		if err != nil {
			fmt.Println(err)
			continue
		}
		c.Close()
	}
}
