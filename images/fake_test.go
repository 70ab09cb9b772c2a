package images

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeRunner stands in for the build's programs: it records each call and
// makes the files the real program would, small.
type fakeRunner struct {
	mu      sync.Mutex
	calls   [][]string
	missing map[string]bool
	fail    map[string]error
	// dpkg is the output of dpkg-query; nil means every requested package
	// plus a few more.
	dpkg []byte
	// seenByMkfs records what the root tree held when mkfs.ext4 ran.
	seenByMkfs map[string]bool
	// stdin holds the standard input each program was given, by name.
	stdin map[string]string
	// coreSectors is the size of the core.img grub-mkimage makes; 0 means 3.
	coreSectors int
	// grubCfg is /boot/grub/grub.cfg as mkfs.ext4 saw it.
	grubCfg string
	// rawHead is the raw disk's first MiB and a little more, as qemu-img
	// converted it: the boot sectors and the start of the partition.
	rawHead []byte
	// coreStart is the blocklist start written into core.img; 0 means 2.
	coreStart uint64
}

func (f *fakeRunner) LookPath(name string) (string, error) {
	if f.missing[name] {
		return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
	}
	return "/usr/sbin/" + name, nil
}

func (f *fakeRunner) programs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for _, c := range f.calls {
		names = append(names, c[0])
	}
	return names
}

func (f *fakeRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return f.RunInput(ctx, nil, name, args...)
}

func (f *fakeRunner) RunInput(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, append([]string{name}, args...))
	if stdin != nil {
		if f.stdin == nil {
			f.stdin = map[string]string{}
		}
		f.stdin[name] = string(stdin)
	}
	f.mu.Unlock()
	if err := f.fail[name]; err != nil {
		if name == "debootstrap" {
			root := args[len(args)-2]
			os.MkdirAll(filepath.Join(root, "debootstrap"), 0o755)
			os.WriteFile(filepath.Join(root, "debootstrap", "debootstrap.log"),
				[]byte("E: Couldn't find these debs: no-such-package\n"), 0o644)
		}
		return nil, &CommandError{Command: append([]string{name}, args...), Err: err, Stderr: "fake failure"}
	}
	switch name {
	case "debootstrap":
		return nil, fakeDebootstrap(args[len(args)-2])
	case "dpkg-query":
		if f.dpkg != nil {
			return f.dpkg, nil
		}
		var b bytes.Buffer
		for _, p := range append(Packages("amd64"), "libc6", "bash") {
			fmt.Fprintf(&b, "%s\t1.0-%d\n", p, len(p))
		}
		return b.Bytes(), nil
	case "mkfs.ext4":
		root := args[slices.Index(args, "-d")+1]
		f.seenByMkfs = map[string]bool{}
		for _, p := range []string{"etc/ssh/ssh_host_ed25519_key", "var/cache/apt/archives/bash.deb", "etc/resolv.conf"} {
			_, err := os.Stat(filepath.Join(root, p))
			f.seenByMkfs[p] = err == nil
		}
		fstab, _ := os.ReadFile(filepath.Join(root, "etc/fstab"))
		f.seenByMkfs["fstab with LABEL=root"] = strings.Contains(string(fstab), "LABEL=root /")
		cfg, err := os.ReadFile(filepath.Join(root, "boot/grub/grub.cfg"))
		f.seenByMkfs["boot/grub/grub.cfg"] = err == nil
		f.grubCfg = string(cfg)
		for _, p := range []string{"boot/grub/i386-pc/normal.mod", "boot/grub/i386-pc/moddep.lst", "boot/grub/i386-pc/README"} {
			_, err := os.Stat(filepath.Join(root, p))
			f.seenByMkfs[p] = err == nil
		}
		// mkfs.ext4 [options] device [fs-size]; -E offset=N moves the
		// filesystem into the file.
		raw, offset := args[len(args)-1], int64(0)
		if i := slices.Index(args, "-E"); i >= 0 {
			raw = args[len(args)-2]
			if _, err := fmt.Sscanf(args[i+1], "offset=%d", &offset); err != nil {
				return nil, fmt.Errorf("fake mkfs: -E %s: %v", args[i+1], err)
			}
		}
		info, err := os.Stat(raw)
		if err != nil || info.Size() != diskSize {
			return nil, fmt.Errorf("fake mkfs: raw disk %s not prepared: %v", raw, err)
		}
		file, err := os.OpenFile(raw, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		_, err = file.WriteAt([]byte("ext4 from "+root), offset+1024)
		return nil, err
	case "sfdisk":
		// Only the boot signature: enough for the boot-sector step to see
		// a partition table.
		file, err := os.OpenFile(args[len(args)-1], os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		_, err = file.WriteAt([]byte{0x55, 0xaa}, 510)
		return nil, err
	case "grub-mkimage":
		sectors, start := f.coreSectors, f.coreStart
		if sectors == 0 {
			sectors = 3
		}
		if start == 0 {
			start = 2
		}
		core := bytes.Repeat([]byte("core"), sectors*sectorSize/4)
		binary.LittleEndian.PutUint64(core[blocklistOffset:], start)
		binary.LittleEndian.PutUint16(core[blocklistOffset+8:], uint16(sectors-1))
		return nil, os.WriteFile(args[slices.Index(args, "-o")+1], core, 0o644)
	case "qemu-img":
		src, dst := args[len(args)-2], args[len(args)-1]
		raw, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		defer raw.Close()
		f.rawHead = make([]byte, partitionStart*sectorSize+2048)
		if _, err := raw.ReadAt(f.rawHead, 0); err != nil {
			return nil, err
		}
		return nil, os.WriteFile(dst, []byte("QFI\xfb qcow2 of "+src), 0o644)
	case "chroot":
		return nil, nil
	}
	return nil, errors.New("fake runner: unexpected program " + name)
}

// fakeDebootstrap makes the parts of a debootstrapped tree that the build
// reads or cleans.
func fakeDebootstrap(root string) error {
	files := map[string]string{
		"boot/vmlinuz-6.1.0-9-cloud-amd64":     "old kernel",
		"boot/initrd.img-6.1.0-9-cloud-amd64":  "old initrd",
		"boot/vmlinuz-6.1.0-37-cloud-amd64":    "kernel",
		"boot/initrd.img-6.1.0-37-cloud-amd64": "initrd",
		"etc/ssh/ssh_host_ed25519_key":         "secret",
		"etc/ssh/sshd_config":                  "config",
		"etc/hostname":                         "buildhost\n",
		"etc/resolv.conf":                      "nameserver 10.0.0.1\n",
		"etc/machine-id":                       "0123456789abcdef\n",
		"etc/default/keyboard":                 "",
		"var/cache/apt/archives/bash.deb":      "deb",
		"var/lib/dpkg/status":                  "",
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// fakeGrubDir makes a stand-in for /usr/lib/grub/i386-pc: a boot.img that
// loads sector 1 and is marked so its bytes can be found in the disk, and
// two modules.
func fakeGrubDir(t *testing.T) string {
	dir := t.TempDir()
	boot := bytes.Repeat([]byte{0xb0}, sectorSize)
	binary.LittleEndian.PutUint64(boot[bootKernelSector:], 1)
	files := map[string][]byte{"boot.img": boot, "normal.mod": []byte("normal"), "moddep.lst": []byte("normal: boot\n"), "README": nil}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
