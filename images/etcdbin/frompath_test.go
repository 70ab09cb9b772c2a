package etcdbin

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// elfHeader is a bare 64-bit little-endian ELF header for machine.
func elfHeader(t *testing.T, class elf.Class, machine elf.Machine, typ elf.Type) []byte {
	t.Helper()
	var ident [elf.EI_NIDENT]byte
	copy(ident[:], elf.ELFMAG)
	ident[elf.EI_CLASS] = byte(class)
	ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var buf bytes.Buffer
	var err error
	if class == elf.ELFCLASS32 {
		err = binary.Write(&buf, binary.LittleEndian, elf.Header32{
			Ident: ident, Type: uint16(typ), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT), Ehsize: 52,
		})
	} else {
		err = binary.Write(&buf, binary.LittleEndian, elf.Header64{
			Ident: ident, Type: uint16(typ), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT), Ehsize: 64,
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFromPathWithEtcdctl(t *testing.T) {
	dir := t.TempDir()
	fakeELF(t, filepath.Join(dir, "etcd"), "3.4.23")
	fakeELF(t, filepath.Join(dir, "etcdctl"), "3.4.23")
	b, err := FromPath(filepath.Join(dir, "etcd"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != "v3.4.23" || b.Etcd != filepath.Join(dir, "etcd") || b.Etcdctl != filepath.Join(dir, "etcdctl") {
		t.Errorf("binaries = %+v", b)
	}
	if len(b.SHA256[EtcdFile]) != 64 || len(b.SHA256[EtcdctlFile]) != 64 {
		t.Errorf("SHA256 = %v", b.SHA256)
	}
	if !strings.HasPrefix(b.Source, "local file ") {
		t.Errorf("source = %q", b.Source)
	}
}

func TestFromPathWithoutEtcdctl(t *testing.T) {
	dir := t.TempDir()
	fakeELF(t, filepath.Join(dir, "etcd"), "3.6.16")
	// A relative path is made absolute: the binary is copied later from
	// another working directory.
	t.Chdir(dir)
	b, err := FromPath("etcd")
	if err != nil {
		t.Fatal(err)
	}
	if b.Etcdctl != "" || b.Etcd != filepath.Join(dir, "etcd") || b.Version != "v3.6.16" {
		t.Errorf("binaries = %+v", b)
	}
	if _, ok := b.SHA256[EtcdctlFile]; ok {
		t.Errorf("SHA256 lists an etcdctl that is not there: %v", b.SHA256)
	}
}

func TestFromPathRejects(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string
		want  []string
	}{
		{"missing", func(t *testing.T, dir string) string { return filepath.Join(dir, "etcd") },
			[]string{"does not exist", "lab etcd build"}},
		{"directory", func(t *testing.T, dir string) string { return dir },
			[]string{"not a regular file"}},
		{"not executable", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "etcd")
			fakeELF(t, p, "3.6.16")
			os.Chmod(p, 0o644)
			return p
		}, []string{"is not executable", "chmod +x"}},
		{"script", func(t *testing.T, dir string) string {
			return write(t, filepath.Join(dir, "etcd"), []byte(fakeScript(EtcdFile, "3.6.16")))
		}, []string{"is not an ELF executable", "etcd-vX-linux-amd64.tar.gz"}},
		{"empty file", func(t *testing.T, dir string) string {
			return write(t, filepath.Join(dir, "etcd"), nil)
		}, []string{"is not an ELF executable"}},
		{"tarball", func(t *testing.T, dir string) string {
			return write(t, filepath.Join(dir, "etcd"), makeTarGz(t, releaseEntries("3.4.7")...))
		}, []string{"is not an ELF executable"}},
		{"arm64", func(t *testing.T, dir string) string {
			return write(t, filepath.Join(dir, "etcd"), elfHeader(t, elf.ELFCLASS64, elf.EM_AARCH64, elf.ET_EXEC))
		}, []string{"EM_AARCH64", "linux/amd64"}},
		{"32-bit x86", func(t *testing.T, dir string) string {
			return write(t, filepath.Join(dir, "etcd"), elfHeader(t, elf.ELFCLASS32, elf.EM_386, elf.ET_EXEC))
		}, []string{"ELFCLASS32", "linux/amd64"}},
		{"shared object", func(t *testing.T, dir string) string {
			return write(t, filepath.Join(dir, "etcd"), elfHeader(t, elf.ELFCLASS64, elf.EM_X86_64, elf.ET_REL))
		}, []string{"ET_REL", "not an executable"}},
		{"bad etcdctl next to it", func(t *testing.T, dir string) string {
			fakeELF(t, filepath.Join(dir, "etcd"), "3.6.16")
			write(t, filepath.Join(dir, "etcdctl"), []byte("#!/bin/sh\n"))
			return filepath.Join(dir, "etcd")
		}, []string{"etcdctl next to the etcd binary", "not an ELF executable"}},
		{"does not run", func(t *testing.T, dir string) string {
			return write(t, filepath.Join(dir, "etcd"), elfHeader(t, elf.ELFCLASS64, elf.EM_X86_64, elf.ET_EXEC))
		}, []string{"running", "--version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t, t.TempDir())
			_, err := FromPath(path)
			if err == nil {
				t.Fatal("FromPath accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func write(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}
