#!/bin/sh
# An inventory script: --list prints every group with _meta.hostvars.
if [ "$1" = "--list" ]; then
cat <<'JSON'
{
  "web": {"hosts": ["web1", "web2"], "vars": {"http_port": 80}, "children": ["edge"]},
  "edge": ["lb1"],
  "db": {"hosts": ["db1"], "vars": {"ansible_user": "postgres"}},
  "_meta": {"hostvars": {
    "web1": {"ansible_host": "192.0.2.1", "ansible_port": 2201},
    "lb1": {"ansible_host": "192.0.2.5"}
  }}
}
JSON
exit 0
fi
echo '{}'
