package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
	f.mu.Lock()
	f.calls = append(f.calls, append([]string{name}, args...))
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
		raw := args[len(args)-1]
		info, err := os.Stat(raw)
		if err != nil || info.Size() != diskSize {
			return nil, fmt.Errorf("fake mkfs: raw disk %s not prepared: %v", raw, err)
		}
		file, err := os.OpenFile(raw, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		_, err = file.WriteAt([]byte("ext4 from "+root), 1024)
		return nil, err
	case "qemu-img":
		src, dst := args[len(args)-2], args[len(args)-1]
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
