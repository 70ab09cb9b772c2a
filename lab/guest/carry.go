package guest

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// Carried is this program, checked fit to run on the nodes, with its
// sha256, so that it is uploaded to a node only when LabBinary differs.
type Carried struct {
	// Path is the host file, SHA256 its hex digest.
	Path   string
	SHA256 string
}

// Carry checks that the program at path can run on the nodes (a static
// x86-64 Linux executable: the guests have none of the host's libraries
// to rely on) and hashes it.
func Carry(path string) (Carried, error) {
	f, err := elf.Open(path)
	if err != nil {
		return Carried{}, fmt.Errorf("reading the lab binary %s to carry to the nodes: %w", path, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return Carried{}, fmt.Errorf("the lab binary %s is not an x86-64 executable (%s, %s): the nodes cannot run it", path, f.Machine, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return Carried{}, fmt.Errorf("the lab binary %s is dynamically linked: the nodes run it too; build it static with CGO_ENABLED=0 (make build)", path)
		}
	}
	sum, err := hashFile(path)
	if err != nil {
		return Carried{}, fmt.Errorf("hashing the lab binary: %w", err)
	}
	return Carried{Path: path, SHA256: sum}, nil
}

// hashFile returns the hex sha256 of the file at path.
func hashFile(path string) (string, error) {
	r, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Current is the flag CurrentScript prints when the node's LabBinary is
// already this one.
const Current = "current"

// CurrentScript prints Current when the node's LabBinary has the carried
// sha256, nothing otherwise.
func (c Carried) CurrentScript() string {
	return "if echo '" + c.SHA256 + "  " + LabBinary + "' | sha256sum -c --status 2>/dev/null; then echo " + Current + "; fi"
}

// InstallScript writes the program it reads from standard input (Open) to
// LabBinary, checked against the carried sha256 before it is put in place.
// Uncompressed: a gzip stream took 1m29s to unpack into a TCG guest where
// the plain 32 MB took about 10 s.
func (c Carried) InstallScript() string {
	return installScript(LabBinary, ".new", c.SHA256, "", "cat")
}

// Open opens the program, for InstallScript's standard input.
func (c Carried) Open() (io.ReadCloser, error) {
	f, err := os.Open(c.Path)
	if err != nil {
		return nil, fmt.Errorf("reading the lab binary %s: %w", c.Path, err)
	}
	return f, nil
}
