package install

import (
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Binary is a local rpcssh binary checked for a host.
type Binary struct {
	Path    string
	Size    int64
	SHA256  string // hex
	Version string // the version it reports (see ReleaseVersionSymbol), "(devel)" when unknown
	// ID names its directory on the host: the version made safe for a
	// path, plus the first 12 hex digits of the checksum, so two builds of
	// one version never share a directory.
	ID string
}

// ErrWrongPlatform is matched (errors.Is) by CheckBinary's error for a
// file that is not an executable for the wanted OS and architecture.
var ErrWrongPlatform = errors.New("not an executable for the host")

// CheckBinary checks that path is an executable for goos/goarch (ELF, or
// Mach-O for darwin) and reads its checksum and version. Errors:
// ErrWrongPlatform (errors.Is) with what the file is, or the read error.
func CheckBinary(path, goos, goarch string) (Binary, error) {
	got, err := platformOf(path)
	if err != nil {
		return Binary{}, err
	}
	if got != goos+"/"+goarch {
		return Binary{}, fmt.Errorf("install: %s is %s, the host needs %s/%s: %w", path, got, goos, goarch, ErrWrongPlatform)
	}
	f, err := os.Open(path)
	if err != nil {
		return Binary{}, fmt.Errorf("install: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Binary{}, fmt.Errorf("install: read %s: %w", path, err)
	}
	b := Binary{Path: path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Version: "(devel)"}
	if info, err := buildinfo.ReadFile(path); err == nil {
		b.Version = binaryVersion(info)
	}
	b.ID = safeName(b.Version) + "-" + b.SHA256[:12]
	return b, nil
}

// BuildCommand is the command line that builds rpcssh for goos/goarch,
// from a checkout of the module, into out.
func BuildCommand(goos, goarch, out string) string {
	return fmt.Sprintf("GOOS=%s GOARCH=%s CGO_ENABLED=0 go build -trimpath -o %s ./cmd/rpcssh", goos, goarch, out)
}

// platformOf returns "goos/goarch" of an executable, or a description of
// what else the file is wrapped in ErrWrongPlatform.
func platformOf(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("install: %w", err)
	}
	defer f.Close()
	if ef, err := elf.NewFile(f); err == nil {
		if ef.Type != elf.ET_EXEC && ef.Type != elf.ET_DYN {
			return "", fmt.Errorf("install: %s is an ELF %s, not an executable: %w", path, ef.Type, ErrWrongPlatform)
		}
		goos := "linux"
		switch ef.OSABI {
		case elf.ELFOSABI_FREEBSD:
			goos = "freebsd"
		case elf.ELFOSABI_OPENBSD:
			goos = "openbsd"
		case elf.ELFOSABI_NETBSD:
			goos = "netbsd"
		}
		arch, ok := map[elf.Machine]string{
			elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_386: "386",
			elf.EM_ARM: "arm", elf.EM_RISCV: "riscv64", elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x",
		}[ef.Machine]
		if !ok {
			return "", fmt.Errorf("install: %s is an ELF for %s: %w", path, ef.Machine, ErrWrongPlatform)
		}
		return goos + "/" + arch, nil
	}
	if mf, err := macho.NewFile(f); err == nil {
		arch, ok := map[macho.Cpu]string{macho.CpuAmd64: "amd64", macho.CpuArm64: "arm64"}[mf.Cpu]
		if !ok || mf.Type != macho.TypeExec {
			return "", fmt.Errorf("install: %s is a Mach-O %v for %v, not an executable for darwin/amd64 or arm64: %w", path, mf.Type, mf.Cpu, ErrWrongPlatform)
		}
		return "darwin/" + arch, nil
	}
	return "", fmt.Errorf("install: %s is neither ELF nor Mach-O: %w", path, ErrWrongPlatform)
}

// safeName keeps letters, digits and . _ + - of a version, so it can name
// a directory; anything else becomes _.
func safeName(v string) string {
	v = strings.Trim(v, "()")
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._+-", r) {
			return r
		}
		return '_'
	}, v)
}
