package inventory_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rpcssh/rpcssh/tunnel/inventory"
)

func TestExpand(t *testing.T) {
	tests := []struct {
		pattern string
		want    string // comma-joined
		err     string
	}{
		{"web1", "web1", ""},
		{"web[01:03]", "web01,web02,web03", ""},
		{"web[8:11].example.com", "web8.example.com,web9.example.com,web10.example.com,web11.example.com", ""},
		{"node[1-3,8]", "node1,node2,node3,node8", ""},
		{"node[08-10,15]", "node08,node09,node10,node15", ""},
		{"db-[a:c]", "db-a,db-b,db-c", ""},
		{"[a:c]", "a,b,c", ""},
		{"h[0:10:5]", "h0,h5,h10", ""},
		{"r[1:2]-[a:b]", "r1-a,r1-b,r2-a,r2-b", ""},
		{"n[7]", "n7", ""},
		{"[::1]:22", "[::1]:22", ""},
		{"[2001:db8::1]", "[2001:db8::1]", ""},
		{"me@[fe80::1]:2222", "me@[fe80::1]:2222", ""},
		{"[web]:22", "[web]:22", ""},
		{"web[1:3]:22", "web1:22,web2:22,web3:22", ""},
		{"web[5:1]", "", "first is after last"},
		{"web[a:3]", "", "mixes letters and numbers"},
		{"web[1:5:0]", "", "step"},
		{"web[1:]", "", "want first:last"},
		{"web[0:99999]", "", ""}, // exactly MaxHosts
		{"web[0:100000]", "", "more than 100000 hosts"},
		{"a[0:999]b[0:999]", "", "more than 100000 hosts"},
		{"x[0:9999999999999]", "", "more than 100000 hosts"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := inventory.Expand(tt.pattern)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Expand(%q) error = %v, want one containing %q", tt.pattern, err, tt.err)
				}
				if strings.Contains(tt.err, "more than") && !errors.Is(err, inventory.ErrTooManyHosts) {
					t.Errorf("Expand(%q) error = %v, want ErrTooManyHosts", tt.pattern, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Expand(%q) error = %v", tt.pattern, err)
			}
			if tt.want == "" {
				if len(got) != inventory.MaxHosts {
					t.Errorf("Expand(%q) = %d names, want %d", tt.pattern, len(got), inventory.MaxHosts)
				}
				return
			}
			if s := strings.Join(got, ","); s != tt.want {
				t.Errorf("Expand(%q) = %s, want %s", tt.pattern, s, tt.want)
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a,b", "a|b"},
		{"node[1-3,8],db1", "node[1-3,8]|db1"},
		{" a , ,b ", "a|b"},
		{"[::1]:22,x", "[::1]:22|x"},
	}
	for _, tt := range tests {
		if got := strings.Join(inventory.SplitList(tt.in), "|"); got != tt.want {
			t.Errorf("SplitList(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCompress(t *testing.T) {
	expand := func(p string) []string {
		hs, err := inventory.Expand(p)
		if err != nil {
			t.Fatal(err)
		}
		return hs
	}
	tests := []struct {
		name  string
		hosts []string
		want  string
	}{
		{"one", []string{"web1"}, "web1"},
		{"padded with a gap", append(expand("web[01:48]"), "web50"), "web[01-48,50]"},
		{"unsorted, repeated", []string{"n3", "n1", "n2", "n1", "n9"}, "n[1-3,9]"},
		{"padding across ten", expand("web[08:11]"), "web[08-11]"},
		{"unpadded across ten", expand("web[8:11]"), "web[8-11]"},
		{"domain suffix", expand("web[1:3].example.com"), "web[1-3].example.com"},
		{"several groups", []string{"db2", "web1", "db1", "mail", "web2"}, "db[1-2],mail,web[1-2]"},
		{"ports", []string{"127.0.0.1:2201", "127.0.0.1:2202", "127.0.0.1:2205"}, "127.0.0.1:[2201-2202,2205]"},
		{"the number that varies", []string{"u1@127.0.0.1:2222", "u3@127.0.0.1:2222", "u2@127.0.0.1:2222"}, "u[1-3]@127.0.0.1:2222"},
		{"two numbers vary: the last", []string{"r1-n1", "r2-n2"}, "r1-n1,r2-n2"},
		{"rack and node", []string{"r1-n1", "r1-n2", "r1-n3"}, "r1-n[1-3]"},
		{"padded first number", expand("web[08:11].example2.com"), "web[08-11].example2.com"},
		{"natural order", []string{"b10", "a", "b9x"}, "a,b9x,b10"},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inventory.Compress(tt.hosts); got != tt.want {
				t.Errorf("Compress(%q) = %s, want %s", tt.hosts, got, tt.want)
			}
		})
	}
}

// TestCompressExpandRoundTrip: what Compress prints, Expand reads back.
func TestCompressExpandRoundTrip(t *testing.T) {
	hosts, _ := inventory.Expand("web[001:120]")
	hosts = slices.DeleteFunc(hosts, func(h string) bool { return strings.HasSuffix(h, "7") })
	c := inventory.Compress(hosts)
	back, err := inventory.ExpandAll(inventory.SplitList(c))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back, hosts) {
		t.Errorf("Expand(Compress(...)) = %d hosts (%s), want %d", len(back), c, len(hosts))
	}
}

func TestCompareNatural(t *testing.T) {
	tests := []struct {
		a, b string
		want int // its sign
	}{
		{"web2", "web10", -1},
		{"web10", "web2", 1},
		{"web02", "web2", 0},
		{"web2", "web2a", -1},
		{"db1", "web1", -1},
		{"web1.b", "web1.a", 1},
		{"", "a", -1},
	}
	for _, tt := range tests {
		got := inventory.CompareNatural(tt.a, tt.b)
		if sign(got) != tt.want {
			t.Errorf("CompareNatural(%q, %q) = %d; want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
