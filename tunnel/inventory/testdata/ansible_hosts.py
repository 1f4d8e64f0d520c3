"""Answers, for each "INVENTORY<TAB>PATTERN" line on standard input, the
hosts Ansible's own InventoryManager selects, as "INVENTORY<TAB>PATTERN<TAB>h1,h2"
(sorted). One process for every pattern: `ansible --list-hosts` takes a
second or more each."""
import sys

from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader

loader = DataLoader()
managers = {}
for line in sys.stdin:
    inv, pattern = line.rstrip("\n").split("\t")
    if inv not in managers:
        managers[inv] = InventoryManager(loader=loader, sources=[inv])
    m = managers[inv]
    m.clear_pattern_cache()
    hosts = sorted(h.name for h in m.get_hosts(pattern))
    print("%s\t%s\t%s" % (inv.split("/")[-1], pattern, ",".join(hosts)))
