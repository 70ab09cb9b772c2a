package etcdbin

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// probeTimeout bounds running a binary with --version.
const probeTimeout = 10 * time.Second

// FromPath accepts a local etcd binary, as given with --etcd-binary PATH.
// The file must exist, be executable and be an x86-64 ELF executable. An
// etcdctl next to it is used when present (and then checked the same way).
// The version is read by running the binary with --version when this host
// can run it.
func FromPath(path string) (*Binaries, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolving etcd binary path %s: %w", path, err)
	}
	if err := checkExecutable(abs); err != nil {
		return nil, fmt.Errorf("etcd binary %w", err)
	}
	b := &Binaries{Etcd: abs, Source: "local file " + abs, SHA256: map[string]string{}}
	ctl := filepath.Join(filepath.Dir(abs), EtcdctlFile)
	switch _, err := os.Stat(ctl); {
	case err == nil:
		if err := checkExecutable(ctl); err != nil {
			return nil, fmt.Errorf("etcdctl next to the etcd binary: %w (remove it or replace it with a linux/amd64 etcdctl)", err)
		}
		b.Etcdctl = ctl
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("looking for etcdctl next to the etcd binary: %w", err)
	}
	for name, p := range map[string]string{EtcdFile: b.Etcd, EtcdctlFile: b.Etcdctl} {
		if p == "" {
			continue
		}
		sum, err := fileSHA256(p)
		if err != nil {
			return nil, err
		}
		b.SHA256[name] = sum
	}
	if hostRunsGuestBinaries() {
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		defer cancel()
		v, err := etcdVersion(ctx, b.Etcd)
		if err != nil {
			return nil, fmt.Errorf("etcd binary %s: %w", abs, err)
		}
		b.Version = v
	}
	return b, nil
}

// checkExecutable checks that path is an executable x86-64 ELF file. The
// error starts with the path and says how to fix the problem.
func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist: give the path of an etcd executable, or use `lab etcd build` / `lab etcd fetch`", path)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file: give the path of the etcd executable itself", path)
	}
	if info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not executable: run `chmod +x %s`", path, path)
	}
	f, err := elf.Open(path)
	if err != nil {
		var formatErr *elf.FormatError
		if errors.As(err, &formatErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%s is not an ELF executable (a script, an archive or a download error page?): give the etcd binary itself, e.g. extracted from etcd-vX-linux-amd64.tar.gz", path)
		}
		return fmt.Errorf("%s: reading ELF header: %w", path, err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("%s is built for %s %s, but the guests are linux/amd64 (x86-64): use a linux-amd64 build", path, f.Class, f.Machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%s is an ELF %s, not an executable", path, f.Type)
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
