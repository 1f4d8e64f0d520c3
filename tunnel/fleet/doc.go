// Package fleet runs one operation on many hosts the way rollouts are
// run: a bound on the hosts in flight, a timeout per host, serial
// batches (Ansible's serial), a failure limit that stops starting new
// hosts (Ansible's max_fail_percentage, pdsh users' fail-fast), and
// results folded by output as dshbak -c prints them.
//
// It knows nothing of SSH or XML-RPC: [Runner].Do does the work for one
// host. Package tunnel/inventory reads the hosts (ranges, Ansible
// inventories, patterns).
package fleet
