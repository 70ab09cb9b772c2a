package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab/accel"
)

func TestLibvirtSocket(t *testing.T) {
	const mono, modular = "/var/run/libvirt/libvirt-sock", "/var/run/libvirt/virtqemud-sock"
	sock := FileStat{Mode: fs.ModeSocket | 0o777, Owner: "root", Group: "root"}
	refused := func(context.Context, string, string) (LibvirtInfo, error) {
		return LibvirtInfo{}, fmt.Errorf("dial unix: %w", syscall.ECONNREFUSED)
	}
	tests := []struct {
		name   string
		change func(*fakeHost, *Requirements)
		status Verdict
		asked  []string
		detail string
		fix    string
	}{{
		name:   "monolithic libvirtd",
		status: OK, asked: []string{mono},
		detail: mono + " (monolithic libvirtd, libvirt 9.0.0, QEMU 7.2.22)",
	}, {
		name:   "modular virtqemud is preferred, as lab's provider does",
		change: func(h *fakeHost, _ *Requirements) { h.files[modular] = sock },
		status: OK, asked: []string{modular},
		detail: modular + " (modular virtqemud, libvirt 9.0.0",
	}, {
		name: "socket named by the URI",
		change: func(h *fakeHost, r *Requirements) {
			r.ConnectURI = "qemu:///system?socket=/srv/libvirt.sock"
			h.files["/srv/libvirt.sock"] = sock
		},
		status: OK, asked: []string{"/srv/libvirt.sock"},
		detail: "/srv/libvirt.sock (from the URI",
	}, {
		name: "session daemon under XDG_RUNTIME_DIR",
		change: func(h *fakeHost, r *Requirements) {
			r.ConnectURI = "qemu:///session"
			h.env["XDG_RUNTIME_DIR"] = "/run/user/1000"
			h.files["/run/user/1000/libvirt/libvirt-sock"] = sock
		},
		status: OK, asked: []string{"/run/user/1000/libvirt/libvirt-sock"},
		detail: "/run/user/1000/libvirt/libvirt-sock (monolithic libvirtd",
	}, {
		name:   "no daemon at all",
		change: func(h *fakeHost, _ *Requirements) { delete(h.files, mono) },
		status: Fail,
		detail: "no daemon serves qemu:///system: no " + modular + " (modular virtqemud), no " + mono + " (monolithic libvirtd)",
		fix:    DefaultSetupCommand,
	}, {
		name: "stale socket of a dead daemon",
		change: func(h *fakeHost, _ *Requirements) {
			h.libvirt = refused
		},
		status: Fail, asked: []string{mono},
		detail: mono + " (monolithic libvirtd) does not answer for qemu:///system: dial unix: connection refused",
		fix:    DefaultSetupCommand,
	}, {
		name: "setup command from the requirements",
		change: func(h *fakeHost, r *Requirements) {
			h.libvirt = refused
			r.SetupCommand = "sudo make host"
		},
		status: Fail, asked: []string{mono},
		fix: "sudo make host",
	}, {
		name: "daemon refuses the user",
		change: func(h *fakeHost, _ *Requirements) {
			h.libvirt = func(context.Context, string, string) (LibvirtInfo, error) {
				return LibvirtInfo{}, fmt.Errorf("%w: authentication failed", fs.ErrPermission)
			}
		},
		status: Fail, asked: []string{mono},
		fix: "sudo usermod -aG libvirt $USER",
	}, {
		name: "non-root user on the system daemon",
		change: func(h *fakeHost, _ *Requirements) {
			h.root = false
			h.libvirt = func(context.Context, string, string) (LibvirtInfo, error) {
				return LibvirtInfo{}, fmt.Errorf("internal error: Unable to get system bus connection")
			}
		},
		status: Fail, asked: []string{mono},
		fix: "run lab as root (sudo lab ...)",
	}, {
		name: "not a socket",
		change: func(h *fakeHost, _ *Requirements) {
			h.files[mono] = FileStat{Mode: 0o644}
		},
		status: Fail,
		detail: mono + " (monolithic libvirtd) is not a socket",
		fix:    DefaultSetupCommand,
	}, {
		name:   "remote URI",
		change: func(_ *fakeHost, r *Requirements) { r.ConnectURI = "qemu+ssh://host/system" },
		status: Fail,
		detail: `"qemu+ssh://host/system": unsupported URI: use qemu:///system or qemu:///session for this machine`,
		fix:    "lab --connect qemu:///system doctor",
	}, {
		// One rule with virt.Dial and --connect: the unix transport is
		// the default, so spelling it out is refused with the spelling
		// that works.
		name: "explicit unix transport",
		change: func(h *fakeHost, r *Requirements) {
			r.ConnectURI = "qemu+unix:///system?socket=/srv/libvirt.sock"
			h.files["/srv/libvirt.sock"] = sock
		},
		status: Fail,
		detail: `"qemu+unix:///system?socket=/srv/libvirt.sock": unsupported URI: use qemu:///system or qemu:///session for this machine (?socket=PATH for another socket)`,
		fix:    "lab --connect qemu:///system doctor",
	}, {
		name:   "unknown path",
		change: func(_ *fakeHost, r *Requirements) { r.ConnectURI = "qemu:///embed" },
		status: Fail,
		detail: `unsupported URI path "/embed": want /system or /session`,
		fix:    "lab --connect qemu:///system doctor",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, req := newFakeHost(), story()
			if tt.change != nil {
				tt.change(h, &req)
			}
			c := check(t, h, req, "libvirt socket")
			want(t, c, tt.status, true, tt.detail, tt.fix)
			if !slices.Equal(h.asked, tt.asked) {
				t.Errorf("asked the daemons on %v, want %v", h.asked, tt.asked)
			}
		})
	}
}

func TestLibvirtHangingDaemonEndsWithTheContext(t *testing.T) {
	h := newFakeHost()
	h.libvirt = func(ctx context.Context, _, _ string) (LibvirtInfo, error) {
		<-ctx.Done()
		return LibvirtInfo{}, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := Run(ctx, h.probes(), story())
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Run took %s with a hanging daemon", d)
	}
	want(t, r.Checks[0], Fail, true, "context deadline exceeded", DefaultSetupCommand)
}

func TestQEMU(t *testing.T) {
	tests := []struct {
		name   string
		change func(*fakeHost)
		status Verdict
		detail string
	}{
		{"found with its version", nil, OK, "/usr/bin/qemu-system-x86_64 (QEMU 7.2.22)"},
		{"not installed", func(h *fakeHost) { delete(h.bins, "qemu-system-x86_64") }, Fail, "qemu-system-x86_64 not found"},
		{"broken binary", func(h *fakeHost) { h.qemuErr = fmt.Errorf("exit status 127") }, Fail, "--version: exit status 127"},
		{"no version printed", func(h *fakeHost) { h.qemuOut = "something else\n" }, Fail, `printed no version: "something else"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHost()
			if tt.change != nil {
				tt.change(h)
			}
			fix := ""
			if tt.status != OK {
				fix = "sudo apt-get install -y --no-install-recommends qemu-system-x86"
			}
			want(t, check(t, h, story(), "qemu"), tt.status, true, tt.detail, fix)
		})
	}
}

// TestSecurity: AppArmor and SELinux are named; SELinux with a pool outside
// /var/lib/libvirt/images is a warning with the labelling commands.
func TestSecurity(t *testing.T) {
	pools := func(path string) Requirements {
		r := story()
		r.Disks = []DiskNeed{{Label: "image cache", Path: "/var/cache/lab"}, {Label: "ssd pool", Path: path}}
		return r
	}
	tests := []struct {
		name   string
		models []string
		req    Requirements
		status Verdict
		detail string
		fix    string
	}{
		{"none", []string{"none"}, story(), OK, "qemu runs unconfined", ""},
		{"dac only", []string{"dac"}, story(), OK, "no AppArmor or SELinux driver", ""},
		{"apparmor", []string{"apparmor", "dac"}, pools("/srv/pools/ssd"), OK, "apparmor: lab hands qemu only files inside its pools", ""},
		{"selinux, default pool", []string{"selinux", "dac"}, pools("/var/lib/libvirt/images/lab-kthw-ssd"), OK, "selinux:", ""},
		{"selinux, pool elsewhere", []string{"selinux", "dac"}, pools("/srv/pools/ssd"), Warn,
			"selinux: the ssd pool /srv/pools/ssd is outside /var/lib/libvirt/images",
			"sudo semanage fcontext -a -t virt_image_t '/srv/pools/ssd(/.*)?' && sudo restorecon -R /srv/pools/ssd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want(t, checkSecurity(tt.models, tt.req), tt.status, false, tt.detail, tt.fix)
		})
	}
}

// TestRemoteHost: with a qemu+ssh:// URI the doctor asks libvirt through the
// tunnel (no local socket), names what it cannot check from here, reports
// the host's KVM, and still checks the local cache; a failing tunnel fails
// the libvirt line with the error.
func TestRemoteHost(t *testing.T) {
	h, req := newFakeHost(), story()
	req.ConnectURI, req.Remote = "qemu+ssh://root@big.example/system", true
	h.libvirt = func(_ context.Context, socket, uri string) (LibvirtInfo, error) {
		if socket != "" || uri != req.ConnectURI {
			return LibvirtInfo{}, fmt.Errorf("asked socket %q uri %q", socket, uri)
		}
		return LibvirtInfo{Version: "10.0.0", Hypervisor: "8.2.2", Security: []string{"apparmor", "dac"}}, nil
	}
	h.guests = func(context.Context) (accel.Result, error) {
		return accel.Result{Accel: accel.KVM, Reason: "the remote host offers KVM domains"}, nil
	}
	var names []string
	for _, c := range Run(t.Context(), h.probes(), req).Checks {
		names = append(names, c.Name)
	}
	if got, wantNames := strings.Join(names, ","), "libvirt,confinement,remote host,kvm guests,base image,etcd binary,image tools"; got != wantNames {
		t.Errorf("checks %s, want %s", got, wantNames)
	}
	want(t, check(t, h, req, "libvirt"), OK, true, "qemu+ssh://root@big.example/system over SSH (libvirt 10.0.0, QEMU 8.2.2)", "")
	want(t, check(t, h, req, "confinement"), OK, false, "apparmor", "")
	want(t, check(t, h, req, "kvm guests"), OK, false, "offers KVM", "")

	h.libvirt = func(context.Context, string, string) (LibvirtInfo, error) {
		return LibvirtInfo{}, errors.New("host key of big.example is not in known_hosts: ssh-keyscan big.example >> ~/.ssh/known_hosts")
	}
	want(t, check(t, h, req, "libvirt"), Fail, true, "ssh-keyscan big.example", "check the SSH login")
}

// TestLibvirtFixForUsers: the fix for a refused non-root user depends on
// whether they are in the libvirt group and on how the daemon checks it.
func TestLibvirtFixForUsers(t *testing.T) {
	polkitErr := errors.New("internal error: Unable to get system bus connection: Could not connect: No such file or directory")
	denied := fmt.Errorf("%w: authentication failed", fs.ErrPermission)
	tests := []struct {
		name   string
		root   bool
		groups []string
		err    error
		fix    string
	}{
		{"not in the group", false, []string{"alice"}, polkitErr, "join the libvirt group: sudo usermod -aG libvirt $USER, then log in again"},
		{"in the group, no polkit", false, []string{"alice", "libvirt"}, polkitErr, `sudo systemctl start dbus polkit), or let the socket's group decide: in /etc/libvirt/libvirtd.conf set unix_sock_group = "libvirt", unix_sock_rw_perms = "0770", auth_unix_rw = "none"`},
		{"in the group, refused", false, []string{"libvirt"}, denied, "check unix_sock_group and auth_unix_rw"},
		{"root, dead daemon", true, nil, errors.New("connection reset by peer"), DefaultSetupCommand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHost()
			h.root = tt.root
			h.libvirt = func(context.Context, string, string) (LibvirtInfo, error) { return LibvirtInfo{}, tt.err }
			p := h.probes()
			p.Groups = func() []string { return tt.groups }
			var c Check
			for _, x := range Run(t.Context(), p, story()).Checks {
				if x.Name == "libvirt socket" {
					c = x
				}
			}
			want(t, c, Fail, true, tt.err.Error(), tt.fix)
		})
	}
}
