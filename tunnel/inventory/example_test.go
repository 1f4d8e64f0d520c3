package inventory_test

import (
	"fmt"
	"strings"

	"github.com/rpcssh/rpcssh/tunnel/inventory"
)

func ExampleExpand() {
	hosts, _ := inventory.Expand("web[01:03].example.com")
	fmt.Println(hosts)
	hosts, _ = inventory.Expand("node[1-3,8]")
	fmt.Println(hosts)
	// Output:
	// [web01.example.com web02.example.com web03.example.com]
	// [node1 node2 node3 node8]
}

func ExampleCompress() {
	hosts, _ := inventory.Expand("web[01:48]")
	fmt.Println(inventory.Compress(append(hosts, "web50", "db1")))
	// Output: db1,web[01-48,50]
}

func ExampleInventory_Select() {
	inv, err := inventory.ParseINI(strings.NewReader(`
[web]
web[1:4] ansible_user=deploy
[db]
db1 ansible_host=192.0.2.7 ansible_port=2222
[prod:children]
web
db
`), "hosts.ini")
	if err != nil {
		fmt.Println(err)
		return
	}
	hosts, _ := inv.Select("prod:!web[0:1]")
	fmt.Println(hosts)
	for _, h := range hosts {
		t, _ := inv.Target(h)
		fmt.Printf("%s: %s@%s port %d\n", t.Name, t.User, t.Address, t.Port)
	}
	// Output:
	// [web3 web4 db1]
	// web3: deploy@web3 port 0
	// web4: deploy@web4 port 0
	// db1: @192.0.2.7 port 2222
}
