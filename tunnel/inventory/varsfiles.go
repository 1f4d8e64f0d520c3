package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxVarsFile bounds each group_vars or host_vars file read.
const maxVarsFile = 16 << 20

// varsExts are the names Ansible's host_group_vars plugin reads: NAME,
// NAME.yml, NAME.yaml, NAME.json.
var varsExts = []string{"", ".yml", ".yaml", ".json"}

// readVarsDirs reads group_vars/ and host_vars/ beside an inventory, as
// Ansible's host_group_vars plugin does: for each group and host, the
// file NAME, NAME.yml, NAME.yaml or NAME.json, or every such file under a
// directory NAME/ (in name order, later files winning).
func (inv *Inventory) readVarsDirs(dir string) error {
	for _, name := range inv.groupOrder {
		vars, err := readVarsFor(filepath.Join(dir, "group_vars"), name)
		if err != nil {
			return err
		}
		inv.groups[name].fileVars = vars
	}
	for _, name := range inv.hostOrder {
		vars, err := readVarsFor(filepath.Join(dir, "host_vars"), name)
		if err != nil {
			return err
		}
		inv.hosts[name].fileVars = vars
	}
	return nil
}

// readVarsFor merges the vars files of one group or host under dir; nil
// when there are none.
func readVarsFor(dir, name string) (map[string]any, error) {
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, nil // not a file name: Ansible finds no file for it either
	}
	var files []string
	for _, ext := range varsExts {
		p := filepath.Join(dir, name+ext)
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return nil, fmt.Errorf("%s: %w", p, err)
		case fi.IsDir() && ext == "":
			err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") && slices.Contains(varsExts, filepath.Ext(d.Name())) {
					files = append(files, path)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		case fi.Mode().IsRegular():
			files = append(files, p)
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	vars := make(map[string]any)
	for _, f := range files {
		data, err := readLimited(f, maxVarsFile)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for k, v := range m {
			vars[k] = v
		}
	}
	return vars, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, limit>>20)
	}
	data := make([]byte, fi.Size())
	if _, err := fh.ReadAt(data, 0); err != nil && fi.Size() > 0 {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}
