package install

import (
	"fmt"
	"strings"
)

// checksumScript prints the SHA-256 of file if it exists, else nothing.
func checksumScript(file string) string {
	return fmt.Sprintf(`f=%s
if [ -f "$f" ]; then
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$f"; else shasum -a 256 "$f"; fi | cut -d' ' -f1
fi
`, quote(file))
}

// verifyScript checks the uploaded tmp against want, and only then makes
// it executable and renames it to target; a mismatch removes tmp.
func verifyScript(tmp, target, want string) string {
	return fmt.Sprintf(`set -e
tmp=%s
if command -v sha256sum >/dev/null 2>&1; then sum=$(sha256sum "$tmp" | cut -d' ' -f1); else sum=$(shasum -a 256 "$tmp" | cut -d' ' -f1); fi
if [ "$sum" != %s ]; then
  rm -f "$tmp"
  rmdir "$(dirname "$tmp")" 2>/dev/null || true
  echo "checksum mismatch: the copy on the host has SHA-256 $sum, want %s; it was removed" >&2
  exit 3
fi
chmod 755 "$tmp"
mv -f "$tmp" %s
`, quote(tmp), want, want, quote(target))
}

// secretScript makes the server's password unless it exists, and prints
// it (on the channel's stdout: never in argv).
func secretScript(l Layout) string {
	return fmt.Sprintf(`set -e
umask 077
d=%s
f=%s
mkdir -p "$d"
if [ ! -s "$f" ]; then
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$f.tmp"
  mv -f "$f.tmp" "$f"
fi
chmod 600 "$f"
head -n 1 "$f"
`, quote(l.ConfigDir()), quote(l.PasswordFile()))
}

// linkScript points ~/.local/bin/rpcssh at version id (atomically).
func linkScript(l Layout, id string) string {
	return fmt.Sprintf("mkdir -p %s\nln -sfn %s %s\nmv -f %s %s\n",
		quote(dirOf(l.Link())), quote(l.Binary(id)), quote(l.Link()+".tmp"), quote(l.Link()+".tmp"), quote(l.Link()))
}

// recordScript writes install.conf and removes version directories other
// than r.ID.
func recordScript(l Layout, r Record) string {
	var b strings.Builder
	b.WriteString("set -e\n")
	fmt.Fprintf(&b, "cat > %s <<'RPCSSH_RECORD_EOF'\n%sRPCSSH_RECORD_EOF\n", quote(l.Record()+".tmp"), r.text())
	fmt.Fprintf(&b, "mv -f %s %s\n", quote(l.Record()+".tmp"), quote(l.Record()))
	fmt.Fprintf(&b, "rm -f %s\n", quote(l.MethodsFile()+".prev"))
	fmt.Fprintf(&b, "for d in %s/*/; do\n  [ -f \"${d}rpcssh\" ] || continue\n  [ \"$d\" = %s ] || rm -rf \"$d\"\ndone\n",
		quote(l.LibDir()), quote(l.VersionDir(r.ID)+"/"))
	return b.String()
}
