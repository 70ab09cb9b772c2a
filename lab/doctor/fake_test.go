package doctor

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/lab/accel"
)

const gib = 1 << 30

// fakeHost is a healthy Debian host with the monolithic libvirtd running,
// as the setup script leaves it. Tests break one probe at a time.
type fakeHost struct {
	files   map[string]FileStat
	root    bool
	libvirt func(ctx context.Context, socket, uri string) (LibvirtInfo, error)
	asked   []string // sockets the Libvirt probe was asked about
	bins    map[string]string
	qemuOut string
	qemuErr error
	user    User
	userErr error
	mem     uint64
	memErr  error
	disks   map[string]DiskSpace // by path; missing paths get "default"
	diskErr error
	image   func(context.Context) (string, error)
	etcd    func(context.Context) (string, error)
	guests  func(context.Context) (accel.Result, error)
	env     map[string]string
}

func newFakeHost() *fakeHost {
	return &fakeHost{
		files: map[string]FileStat{
			"/var/run/libvirt/libvirt-sock": {Mode: fs.ModeSocket | 0o777, Owner: "root", Group: "root"},
			KVMDevice:                       {Mode: fs.ModeDevice | fs.ModeCharDevice | 0o660, Owner: "root", Group: "kvm"},
		},
		root: true,
		libvirt: func(context.Context, string, string) (LibvirtInfo, error) {
			return LibvirtInfo{Version: "9.0.0", Hypervisor: "7.2.22"}, nil
		},
		bins: map[string]string{
			"qemu-system-x86_64": "/usr/bin/qemu-system-x86_64",
			"debootstrap":        "/usr/sbin/debootstrap",
			"mkfs.ext4":          "/usr/sbin/mkfs.ext4",
			"qemu-img":           "/usr/bin/qemu-img",
		},
		qemuOut: "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n",
		user:    User{Name: "libvirt-qemu", Groups: []string{"kvm", "libvirt-qemu"}},
		mem:     8 * gib,
		disks:   map[string]DiskSpace{"default": {Free: 50 * gib, Filesystem: "2049", Measured: "/"}},
		image:   func(context.Context) (string, error) { return "debian-12 sha256:3f2a9c (1.1 GiB)", nil },
		etcd:    func(context.Context) (string, error) { return "v3.6.16 built from the Go modules", nil },
		// Like these build machines: /dev/kvm is fine, guests do not boot.
		guests: func(context.Context) (accel.Result, error) {
			return accel.Result{Accel: accel.TCG, Reason: "KVM present but guests do not boot (no kernel output in 40s) — using TCG"}, nil
		},
		env: map[string]string{},
	}
}

func (h *fakeHost) probes() Lookups {
	return Lookups{
		Getenv: func(k string) string { return h.env[k] },
		Stat: func(path string) (FileStat, error) {
			st, found := h.files[path]
			if !found {
				return FileStat{}, fmt.Errorf("stat %s: %w", path, fs.ErrNotExist)
			}
			return st, nil
		},
		Root: func() bool { return h.root },
		Libvirt: func(ctx context.Context, socket, uri string) (LibvirtInfo, error) {
			h.asked = append(h.asked, socket)
			return h.libvirt(ctx, socket, uri)
		},
		LookPath: func(name string) (string, error) {
			if p, found := h.bins[name]; found {
				return p, nil
			}
			return "", fmt.Errorf("finding %s: not found", name)
		},
		Output: func(_ context.Context, name string, args ...string) ([]byte, error) {
			if name != h.bins["qemu-system-x86_64"] || len(args) != 1 || args[0] != "--version" {
				return nil, fmt.Errorf("unexpected command %s %v", name, args)
			}
			return []byte(h.qemuOut), h.qemuErr
		},
		QEMUUser:     func() (User, error) { return h.user, h.userErr },
		MemAvailable: func() (uint64, error) { return h.mem, h.memErr },
		Disk: func(path string) (DiskSpace, error) {
			if h.diskErr != nil {
				return DiskSpace{}, h.diskErr
			}
			if d, found := h.disks[path]; found {
				return d, nil
			}
			return h.disks["default"], nil
		},
		BaseImage:  h.image,
		EtcdBinary: h.etcd,
		KVMGuests:  h.guests,
	}
}

// story is the default lab: three nodes of 1 GiB on the ssd pool.
func story() Requirements {
	return Requirements{
		ConnectURI:   "qemu:///system",
		Accel:        "auto",
		Nodes:        3,
		NodeMemory:   1 * gib,
		NodeOverhead: DefaultNodeOverhead,
		HostOverhead: DefaultHostOverhead,
		Disks: []DiskNeed{
			{Label: "image cache", Path: "/var/cache/lab", Need: 2 * gib, Fix: "lab --cache-dir DIR image build"},
			{Label: "ssd pool", Path: "/var/lib/libvirt/images/lab-kthw-ssd", Need: 9 * gib, Fix: "lab create --ssd-path DIR"},
		},
	}
}

// checks runs the doctor on h and returns the checks named name.
func checks(t testing.TB, h *fakeHost, req Requirements, name string) []Check {
	t.Helper()
	var out []Check
	for _, c := range Run(t.Context(), h.probes(), req).Checks {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// check runs the doctor on h and returns its one check named name.
func check(t testing.TB, h *fakeHost, req Requirements, name string) Check {
	t.Helper()
	cs := checks(t, h, req, name)
	if len(cs) != 1 {
		t.Fatalf("want one %q check, got %+v", name, cs)
	}
	return cs[0]
}

// want fails the test unless c has the status, requiredness, and a detail
// and fix containing the given parts.
func want(t testing.TB, c Check, status Verdict, required bool, detail, fix string) {
	t.Helper()
	if c.Verdict != status || c.Required != required {
		t.Errorf("%s: status %s required %v, want %s required %v (detail %q)", c.Name, c.Verdict, c.Required, status, required, c.Detail)
	}
	if !strings.Contains(c.Detail, detail) {
		t.Errorf("%s: detail %q lacks %q", c.Name, c.Detail, detail)
	}
	if fix == "" && c.Fix != "" {
		t.Errorf("%s: fix %q, want none", c.Name, c.Fix)
	}
	if !strings.Contains(c.Fix, fix) {
		t.Errorf("%s: fix %q lacks %q", c.Name, c.Fix, fix)
	}
	if status != OK && c.Fix == "" {
		t.Errorf("%s: %s without a fix", c.Name, status)
	}
}
