package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"

	"github.com/kthw-lab/lab/lab/virt"
)

// DefaultLookups reads the real host. baseImage and etcdBinary describe the
// cached guest artifacts (the images packages provide them); either may be
// nil, which makes its check a warning.
func DefaultLookups(baseImage, etcdBinary func(context.Context) (string, error)) Lookups {
	return Lookups{
		Getenv:       os.Getenv,
		Stat:         statFile,
		Root:         func() bool { return os.Geteuid() == 0 },
		Groups:       currentGroups,
		Libvirt:      askLibvirt,
		LookPath:     lookPath,
		Output:       output,
		QEMUUser:     func() (User, error) { return qemuUser("/etc/libvirt/qemu.conf") },
		MemAvailable: func() (uint64, error) { return memAvailable("/proc/meminfo") },
		Disk:         diskSpace,
		BaseImage:    baseImage,
		EtcdBinary:   etcdBinary,
	}
}

func statFile(path string) (FileStat, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return FileStat{}, err
	}
	st := FileStat{Mode: fi.Mode()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.Owner = userName(sys.Uid)
		st.Group = groupName(sys.Gid)
	}
	return st, nil
}

func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return id
}

func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}

// askLibvirt opens uri and asks the daemon for its versions: on the unix
// socket the check found, through virt.DialSocket, whose connection ends
// with ctx; with no socket, a remote URI through virt.Dial and the tunnel
// ctx carries. Refusals are marked fs.ErrPermission for libvirtFix, and a
// call cut short by the deadline names the deadline.
func askLibvirt(ctx context.Context, socket, uri string) (LibvirtInfo, error) {
	var p *virt.Provider
	var err error
	if socket == "" {
		p, err = virt.Dial(ctx, uri)
	} else {
		p, err = virt.DialSocket(ctx, socket, uri)
	}
	if err != nil {
		return LibvirtInfo{}, libvirtErr(ctx, err)
	}
	defer p.Close()
	h, err := p.Host(ctx)
	if err != nil {
		return LibvirtInfo{}, libvirtErr(ctx, err)
	}
	return LibvirtInfo{Version: h.Libvirt, Hypervisor: h.QEMU, Security: h.Security}, nil
}

// libvirtErr marks the daemon's refusals as permission errors, and a call
// cut short by the deadline as the deadline.
func libvirtErr(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	case virt.IsPermission(err) && !errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %w", fs.ErrPermission, err)
	}
	return err
}

// systemDirs hold programs a non-root PATH often lacks (mkfs.ext4,
// debootstrap live in /usr/sbin).
var systemDirs = []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"}

func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range systemDirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("finding %s: not on PATH nor in %v", name, systemDirs)
}

func output(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%w: %s", err, firstLine(out))
	}
	return out, nil
}

var qemuConfUser = regexp.MustCompile(`(?m)^\s*user\s*=\s*"([^"]*)"`)

// qemuUser is the user libvirt runs qemu as: qemu.conf's user when set,
// else the distribution's default (libvirt-qemu on Debian and Ubuntu, qemu
// elsewhere).
func qemuUser(conf string) (User, error) {
	name := ""
	if b, err := os.ReadFile(conf); err == nil {
		if m := qemuConfUser.FindAllSubmatch(b, -1); m != nil {
			name = string(m[len(m)-1][1])
		}
	}
	if name == "" {
		name = "qemu"
		if _, err := user.Lookup("libvirt-qemu"); err == nil {
			name = "libvirt-qemu"
		}
	}
	var u *user.User
	var err error
	if id, ok := numericUser(name); ok {
		u, err = user.LookupId(id)
	} else {
		u, err = user.Lookup(name)
	}
	if err != nil {
		return User{}, fmt.Errorf("looking up the qemu user %q: %w", name, err)
	}
	gids, err := u.GroupIds()
	if err != nil {
		return User{}, fmt.Errorf("listing the groups of %q: %w", u.Username, err)
	}
	out := User{Name: u.Username, Root: u.Uid == "0"}
	for _, gid := range gids {
		if g, err := user.LookupGroupId(gid); err == nil {
			out.Groups = append(out.Groups, g.Name)
		} else {
			out.Groups = append(out.Groups, gid)
		}
	}
	return out, nil
}

// numericUser reads qemu.conf's "+N" form, a uid.
func numericUser(name string) (string, bool) {
	if len(name) > 1 && name[0] == '+' {
		if _, err := strconv.ParseUint(name[1:], 10, 32); err == nil {
			return name[1:], true
		}
	}
	return "", false
}

func memAvailable(meminfo string) (uint64, error) {
	b, err := os.ReadFile(meminfo)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", meminfo, err)
	}
	return parseMemAvailable(b)
}

var memAvailableLine = regexp.MustCompile(`(?m)^MemAvailable:\s+(\d+) kB$`)

// parseMemAvailable reads MemAvailable from /proc/meminfo, in bytes.
func parseMemAvailable(meminfo []byte) (uint64, error) {
	m := memAvailableLine.FindSubmatch(meminfo)
	if m == nil {
		return 0, errors.New("no MemAvailable line in /proc/meminfo")
	}
	kb, err := strconv.ParseUint(string(m[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parsing MemAvailable %q: %w", m[1], err)
	}
	return kb << 10, nil
}

// diskSpace measures the filesystem of path, or of its nearest existing
// parent when path is still to be created.
func diskSpace(path string) (DiskSpace, error) {
	p, err := filepath.Abs(path)
	if err != nil {
		return DiskSpace{}, fmt.Errorf("resolving %s: %w", path, err)
	}
	for {
		fi, err := os.Stat(p)
		if err == nil {
			var sf syscall.Statfs_t
			if err := syscall.Statfs(p, &sf); err != nil {
				return DiskSpace{}, fmt.Errorf("measuring free space at %s: %w", p, err)
			}
			dev := ""
			if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
				dev = strconv.FormatUint(sys.Dev, 10)
			}
			return DiskSpace{Free: sf.Bavail * uint64(sf.Bsize), Filesystem: dev, Measured: p}, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || p == "/" {
			return DiskSpace{}, fmt.Errorf("measuring free space for %s: %w", path, err)
		}
		p = filepath.Dir(p)
	}
}

// currentGroups names the groups the process runs with: a group joined
// with usermod -aG counts only after a new login, as for the daemon.
func currentGroups() []string {
	ids, err := os.Getgroups()
	if err != nil {
		return nil
	}
	names := []string{groupName(uint32(os.Getgid()))}
	for _, id := range ids {
		names = append(names, groupName(uint32(id)))
	}
	return names
}
