package tunnel_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	skeema "github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rpcssh/rpcssh/tunnel"
)

// TestHostKeyIndexMatchesScan checks that the index of plain known_hosts
// files orders host key algorithms exactly as skeema's scan of every line
// does, and that files with hashed, wildcard, negated or marked lines get
// no index (so the scan answers).
func TestHostKeyIndexMatchesScan(t *testing.T) {
	ed := genSigner(t).PublicKey()
	rsaPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, _ := ssh.NewPublicKey(&rsaPriv.PublicKey)
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ssh.NewPublicKey(&ecPriv.PublicKey)
	line := func(hosts string, k ssh.PublicKey) string {
		return hosts + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	}
	names := []string{"web1:22", "web2:22", "web1:2222", "127.0.0.1:41000", "[::1]:2222", "db:22", "other:22"}
	tests := []struct {
		name    string
		files   [][]string // lines of each file
		indexed bool
	}{
		{"one plain file", [][]string{{
			line("web1", ed), line("web2,[web1]:2222", rsaKey), "# comment", "",
			line("[127.0.0.1]:41000", ed), line("web1", ecKey), line("[::1]:2222", ecKey),
		}}, true},
		{"two files, the second sorted first", [][]string{
			{line("web1", rsaKey)},
			{line("web1", ed), line("[web1]:22", ecKey)},
		}, true},
		{"a hashed name", [][]string{{line("web1", ed), line(knownhosts.HashHostname("db"), rsaKey)}}, false},
		{"a wildcard", [][]string{{line("web1", ed), line("web*", rsaKey)}}, false},
		{"a negation", [][]string{{line("web1", ed), line("db,!web2", rsaKey)}}, false},
		{"a revoked key", [][]string{{line("web1", ed), "@revoked " + line("*", rsaKey)}}, false},
		{"a CA", [][]string{{line("web1", ed), "@cert-authority " + line("db", rsaKey)}}, false},
		{"a bare IPv6 address", [][]string{{line("web1", ed), line("::1", rsaKey)}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var files []string
			for i, lines := range tt.files {
				// Named so that the later file sorts first.
				f := filepath.Join(dir, string(rune('z'-i)))
				writeFile(t, f, strings.Join(lines, "\n")+"\n")
				files = append(files, f)
			}
			kh, err := tunnel.ReadKnownHosts(files...)
			if err != nil {
				t.Fatal(err)
			}
			db, err := skeema.NewDB(files...)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				got, indexed := tunnel.HostKeyIndexAlgorithms(kh, n)
				if indexed != tt.indexed {
					t.Fatalf("indexed = %v, want %v", indexed, tt.indexed)
				}
				if !indexed {
					continue
				}
				if want := db.HostKeyAlgorithms(n); !slices.Equal(got, want) {
					t.Errorf("%s: got %v, want %v (skeema)", n, got, want)
				}
			}
		})
	}
}
