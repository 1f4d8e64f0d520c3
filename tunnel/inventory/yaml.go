package inventory

import (
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// ParseYAML reads an inventory in the format of Ansible's yaml plugin
// (JSON too, being YAML):
//
//	all:
//	  hosts:
//	    mail.example.com:
//	  children:
//	    web:
//	      hosts:
//	        web[01:50].example.com:
//	        web2: {ansible_host: 192.0.2.11, ansible_port: 2222}
//	      vars:
//	        http_port: 80
//
// Each top-level key is a group; a group holds hosts (a mapping of host
// patterns, with ranges and an optional :PORT, to their vars), vars and
// children (a mapping of groups, nested the same way). Keys order hosts
// and groups as written. name is used in errors. A document that is not a
// mapping of groups, a group or host section of the wrong shape, or a
// cycle of children is an error.
func ParseYAML(r io.Reader, name string) (*Inventory, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("inventory: %s: empty YAML document", name)
		}
		return nil, fmt.Errorf("inventory: %s: %w", name, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("inventory: %s:%d: a YAML inventory is a mapping of groups", name, root.Line)
	}
	inv := newInventory()
	for i := 0; i+1 < len(root.Content); i += 2 {
		if err := yamlGroup(inv, "", root.Content[i].Value, root.Content[i+1]); err != nil {
			return nil, fmt.Errorf("inventory: %s: %w", name, err)
		}
	}
	inv.finish()
	return inv, nil
}

// yamlGroup reads one group (and its children) into inv.
func yamlGroup(inv *Inventory, parent, name string, n *yaml.Node) error {
	inv.group(name)
	if parent != "" {
		if err := inv.addChild(parent, name); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
	}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: group %s: want a mapping of hosts, vars and children", n.Line, name)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		switch key {
		case "hosts":
			if isNull(val) {
				continue
			}
			if val.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: group %s: hosts must be a mapping of host names", val.Line, name)
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				if err := yamlHost(inv, name, val.Content[j], val.Content[j+1]); err != nil {
					return err
				}
			}
		case "vars":
			if isNull(val) {
				continue
			}
			var vars map[string]any
			if err := val.Decode(&vars); err != nil {
				return fmt.Errorf("line %d: group %s: vars must be a mapping: %w", val.Line, name, err)
			}
			for k, v := range vars {
				inv.group(name).vars[k] = v
			}
		case "children":
			if isNull(val) {
				continue
			}
			if val.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: group %s: children must be a mapping of groups", val.Line, name)
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				if err := yamlGroup(inv, name, val.Content[j].Value, val.Content[j+1]); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("line %d: group %s: unexpected key %q (want hosts, vars or children)", n.Content[i].Line, name, key)
		}
	}
	return nil
}

func yamlHost(inv *Inventory, group string, key, val *yaml.Node) error {
	names, port, err := expandHostEntry(key.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", key.Line, err)
	}
	var vars map[string]any
	if !isNull(val) {
		if err := val.Decode(&vars); err != nil {
			return fmt.Errorf("line %d: host %s: vars must be a mapping: %w", val.Line, key.Value, err)
		}
	}
	inv.addHostEntry(group, names, port, vars)
	return nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}
