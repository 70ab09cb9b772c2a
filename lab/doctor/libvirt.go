package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/kthw-lab/lab/lab/virt"
)

// checkLibvirt finds the socket lab will use for the URI and talks to the
// daemon behind it.
func checkLibvirt(ctx context.Context, p Lookups, req Requirements) []Check {
	const name = "libvirt socket"
	uri := or(req.ConnectURI, "qemu:///system")
	if req.Remote {
		info, err := p.Libvirt(ctx, "", uri)
		if err != nil {
			return []Check{fail("libvirt", fmt.Sprintf("%s: %v", uri, err),
				"check the SSH login and the host's libvirt (the error names the step); see docs/hosts.md", true)}
		}
		return []Check{
			ok("libvirt", fmt.Sprintf("%s over SSH (libvirt %s, QEMU %s)", uri, info.Version, info.Hypervisor), true),
			checkSecurity(info.Security, Requirements{}),
		}
	}
	socks, err := virt.Sockets(uri, p.Getenv)
	if err != nil {
		return []Check{fail(name, err.Error(), "lab --connect qemu:///system doctor", true)}
	}
	var missing []string
	for _, s := range socks {
		st, err := p.Stat(s.Path)
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, fmt.Sprintf("%s (%s)", s.Path, s.Daemon))
			continue
		}
		if err != nil {
			return []Check{fail(name, fmt.Sprintf("%s (%s): %v", s.Path, s.Daemon, err), req.setup(), true)}
		}
		if st.Mode.Type() != fs.ModeSocket {
			return []Check{fail(name, fmt.Sprintf("%s (%s) is not a socket", s.Path, s.Daemon), req.setup(), true)}
		}
		info, err := p.Libvirt(ctx, s.Path, uri)
		if err != nil {
			return []Check{fail(name, fmt.Sprintf("%s (%s) does not answer for %s: %v", s.Path, s.Daemon, uri, err),
				libvirtFix(err, p, uri, req), true)}
		}
		return []Check{
			ok(name, fmt.Sprintf("%s (%s, libvirt %s, QEMU %s)", s.Path, s.Daemon, info.Version, info.Hypervisor), true),
			checkSecurity(info.Security, req),
		}
	}
	return []Check{fail(name, fmt.Sprintf("no daemon serves %s: no %s", uri, strings.Join(missing, ", no ")), req.setup(), true)}
}

// libvirtFix is the fix for a daemon that is there but does not answer. A
// non-root user on the system daemon is let in by the libvirt group, through
// polkit (which needs D-Bus and polkitd running) or through the socket's
// group; anything else, such as the stale socket of a dead daemon, needs a
// restart.
func libvirtFix(err error, p Lookups, uri string, req Requirements) string {
	const root = "run lab as root (sudo lab ...)"
	system := strings.HasSuffix(strings.SplitN(uri, "?", 2)[0], "/system")
	if !errors.Is(err, fs.ErrPermission) && (!system || p.Root()) {
		return req.setup()
	}
	msg := err.Error()
	polkit := strings.Contains(msg, "system bus") || strings.Contains(msg, "polkit")
	inGroup := p.Groups != nil && slices.Contains(p.Groups(), "libvirt")
	switch {
	case !inGroup:
		return root + ", or join the libvirt group: sudo usermod -aG libvirt $USER, then log in again"
	case polkit:
		return "you are in the libvirt group, but libvirtd checks it through polkit, which needs D-Bus and polkitd: " +
			"start them (sudo systemctl start dbus polkit), or let the socket's group decide: in /etc/libvirt/libvirtd.conf set " +
			`unix_sock_group = "libvirt", unix_sock_rw_perms = "0770", auth_unix_rw = "none" and restart libvirtd; or ` + root
	}
	return "you are in the libvirt group, but the daemon refuses you: check unix_sock_group and auth_unix_rw in /etc/libvirt/libvirtd.conf; or " + root
}

var qemuVersion = regexp.MustCompile(`QEMU emulator version (\S+)`)

// checkQEMU finds qemu-system-x86_64 and asks for its version.
func checkQEMU(ctx context.Context, p Lookups, _ Requirements) []Check {
	const name, bin = "qemu", "qemu-system-x86_64"
	fix := aptInstall("qemu-system-x86")
	path, err := p.LookPath(bin)
	if err != nil {
		return []Check{fail(name, bin+" not found", fix, true)}
	}
	out, err := p.Output(ctx, path, "--version")
	if err != nil {
		return []Check{fail(name, fmt.Sprintf("%s --version: %v", path, err), fix, true)}
	}
	m := qemuVersion.FindSubmatch(out)
	if m == nil {
		return []Check{fail(name, fmt.Sprintf("%s --version printed no version: %q", path, firstLine(out)), fix, true)}
	}
	return []Check{ok(name, fmt.Sprintf("%s (QEMU %s)", path, m[1]), true)}
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

// libvirtImages is where SELinux policy labels files for qemu (virt_image_t)
// and where AppArmor's libvirt profile lets it read.
const libvirtImages = "/var/lib/libvirt/images"

// checkSecurity reports the daemon's confinement of qemu. lab gives qemu
// only files inside its own pools (base image, kernel, initrd, seeds are
// uploaded there), so AppArmor's per-domain profiles allow them; SELinux
// needs pools outside /var/lib/libvirt/images labelled virt_image_t.
func checkSecurity(models []string, req Requirements) Check {
	const name = "confinement"
	var mac []string
	for _, m := range models {
		if m != "dac" && m != "none" && m != "" {
			mac = append(mac, m)
		}
	}
	if len(mac) == 0 {
		return ok(name, "no AppArmor or SELinux driver in libvirt: qemu runs unconfined (as its DAC user)", false)
	}
	if slices.Contains(mac, "selinux") {
		for _, d := range req.Disks {
			if !strings.HasSuffix(d.Label, "pool") || strings.HasPrefix(d.Path+"/", libvirtImages+"/") {
				continue
			}
			return warn(name, fmt.Sprintf("selinux: the %s %s is outside %s, so qemu may not open its volumes", d.Label, d.Path, libvirtImages),
				fmt.Sprintf("sudo semanage fcontext -a -t virt_image_t '%s(/.*)?' && sudo restorecon -R %s", d.Path, d.Path), false)
		}
	}
	return ok(name, strings.Join(mac, ", ")+": lab hands qemu only files inside its pools (base image, kernel, initrd and seeds are uploaded there)", false)
}

// checkRemoteHost says what the doctor cannot see of a remote host.
func checkRemoteHost(context.Context, Lookups, Requirements) []Check {
	return []Check{ok("remote host", "qemu, memory and the pools' disk space are on the host and not checked from here (lab doctor there checks them)", false)}
}

// checkRemoteKVM reports whether the remote host offers KVM (there is no
// local /dev/kvm to look at, and no image there to self-test with).
func checkRemoteKVM(ctx context.Context, p Lookups, req Requirements) []Check {
	if or(req.Accel, "auto") == accelTCG {
		return nil
	}
	return []Check{checkKVMGuests(ctx, p, req.Accel == accelKVM)}
}
