package tunneltest

import (
	"io/fs"
	"path/filepath"
	"sort"
)

// Tree lists every path under dir with its type, sorted, so a test can
// check that an account's home is as it was ("nothing left behind").
func Tree(tb TB, dir string) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel+" "+d.Type().String())
		return nil
	})
	if err != nil {
		tb.Fatalf("tunneltest: tree %s: %v", dir, err)
	}
	sort.Strings(out)
	return out
}
