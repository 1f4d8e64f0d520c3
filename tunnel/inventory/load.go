package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxInventoryFile bounds what Load reads from an INI or YAML file.
const maxInventoryFile = 64 << 20

// LoadConfig says how [Load] runs an inventory script.
type LoadConfig struct {
	// ScriptEnv is the environment of an inventory script, as in
	// exec.Cmd.Env; nil runs it with an empty environment, so that no
	// secret of the caller's reaches it unasked.
	ScriptEnv []string
}

// Load reads an inventory the way Ansible picks its inventory plugin:
//
//   - an executable file (not named .ini, .yml, .yaml or .json) is a
//     script, run as "PATH --list" (see [ParseScriptOutput]); ctx bounds
//     it and every "PATH --host NAME" it may need;
//   - a .yml, .yaml or .json file is YAML ([ParseYAML]);
//   - a file with no extension is YAML if it reads as a YAML inventory,
//     else INI;
//   - anything else is INI ([ParseINI]).
//
// Then, as Ansible's host_group_vars plugin, it reads the group_vars/ and
// host_vars/ directories beside the inventory (see [Inventory.HostVars]
// for the precedence).
//
// A missing file returns an error wrapping fs.ErrNotExist; a directory,
// a file over 64 MiB, a script that fails and malformed content (the
// inventory's or a vars file's) are errors naming the path.
func Load(ctx context.Context, path string, cfg LoadConfig) (*Inventory, error) {
	inv, err := load(ctx, path, cfg)
	if err != nil {
		return nil, err
	}
	if err := inv.readVarsDirs(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return inv, nil
}

func load(ctx context.Context, path string, cfg LoadConfig) (*Inventory, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("inventory: %s: is a directory (give one inventory file)", path)
	}
	ext := strings.ToLower(filepath.Ext(path))
	isYAML := ext == ".yml" || ext == ".yaml" || ext == ".json"
	if fi.Mode()&0o111 != 0 && ext != ".ini" && !isYAML {
		return loadScript(ctx, path, cfg)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxInventoryFile+1))
	if err != nil {
		return nil, fmt.Errorf("inventory: %s: %w", path, err)
	}
	if len(data) > maxInventoryFile {
		return nil, fmt.Errorf("inventory: %s: larger than %d MiB", path, maxInventoryFile>>20)
	}
	if isYAML {
		return ParseYAML(bytes.NewReader(data), path)
	}
	if ext == "" {
		if inv, err := ParseYAML(bytes.NewReader(data), path); err == nil {
			return inv, nil
		}
	}
	return ParseINI(bytes.NewReader(data), path)
}

func loadScript(ctx context.Context, path string, cfg LoadConfig) (*Inventory, error) {
	env := cfg.ScriptEnv
	if env == nil {
		env = []string{}
	}
	out, err := runScript(ctx, path, env, "--list")
	if err != nil {
		return nil, fmt.Errorf("inventory: %s --list: %w", path, err)
	}
	return ParseScriptOutput(out, path, func(host string) (map[string]any, error) {
		out, err := runScript(ctx, path, env, "--host", host)
		if err != nil {
			return nil, err
		}
		var vars map[string]any
		if err := json.Unmarshal(out, &vars); err != nil {
			return nil, fmt.Errorf("output is not a JSON object: %w", err)
		}
		return vars, nil
	})
}
