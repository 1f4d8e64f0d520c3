// Package inventory reads fleets the way operators already describe them:
// host ranges as Ansible and pdsh write them (web[01:50], node[1-5,8]),
// Ansible inventories (INI, YAML, and the --list JSON of an inventory
// script), and Ansible's host patterns (web:&prod:!db, web[0:9]).
//
// It only reads and selects: it opens no connection. [Inventory.Target]
// turns a host's connection variables (ansible_host, ansible_port,
// ansible_user, ansible_ssh_private_key_file, ansible_ssh_common_args,
// ansible_ssh_extra_args) into what an SSH client needs; package
// tunnel/fleet runs an operation on the selected hosts.
//
// # Compatibility
//
// Hosts, groups and merged variables are checked against
// `ansible-inventory --list` (Ansible 2.14), and patterns against
// Ansible's own InventoryManager, in this package's tests; [Load] also
// reads the group_vars/ and host_vars/ directories beside an inventory.
// Not supported: inventory directories, inventory plugins other than ini,
// yaml and script, Jinja2 templates and ansible-vault values
// ([Inventory.Target] refuses a connection variable holding either).
//
// # Bounds
//
// A host pattern expands to at most [MaxHosts] names; inventory files
// are read up to 64 MiB, script output up to 64 MiB.
package inventory
