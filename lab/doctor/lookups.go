package doctor

import (
	"context"
	"io/fs"

	"github.com/kthw-lab/lab/lab/accel"
)

// Lookups is everything the checks learn about the host. Each field is a
// function so tests can fake any answer; DefaultLookups reads the real host.
// A nil BaseImage or EtcdBinary makes its check a warning ("not checked").
type Lookups struct {
	// Getenv reads an environment variable (XDG_RUNTIME_DIR and HOME for
	// qemu:///session sockets).
	Getenv func(key string) string
	// Stat describes the file at path, following symlinks
	// (/var/run → /run); an error wrapping fs.ErrNotExist when there is none.
	Stat func(path string) (FileStat, error)
	// Root reports whether the doctor runs as root.
	Root func() bool
	// Groups lists the names of the groups the doctor runs with; nil when
	// unknown.
	Groups func() []string
	// Libvirt connects to the daemon on the unix socket, opens uri and
	// returns the daemon's versions; with no socket, it reaches the
	// remote uri through the tunnel the context carries (virt.Dial).
	Libvirt func(ctx context.Context, socket, uri string) (LibvirtInfo, error)
	// LookPath finds an executable on PATH or in the system directories
	// (/usr/sbin, /sbin, /usr/bin, /bin) a non-root PATH may lack.
	LookPath func(name string) (string, error)
	// Output runs a program and returns what it wrote to stdout and stderr.
	Output func(ctx context.Context, name string, args ...string) ([]byte, error)
	// QEMUUser is the user libvirt runs qemu as, with its groups.
	QEMUUser func() (User, error)
	// MemAvailable is the kernel's estimate of memory available to new
	// programs without swapping (MemAvailable in /proc/meminfo), in bytes.
	MemAvailable func() (uint64, error)
	// Disk measures the filesystem that holds path, or would hold it: a
	// missing path is measured at its nearest existing parent.
	Disk func(path string) (DiskSpace, error)
	// BaseImage describes the cached base image, or fails when there is
	// none. Supplied by the caller (the images packages).
	BaseImage func(ctx context.Context) (string, error)
	// EtcdBinary describes the etcd binary the nodes will get, or fails
	// when there is none. Supplied by the caller (the images packages).
	EtcdBinary func(ctx context.Context) (string, error)
	// KVMGuests boots the base image briefly under KVM and says whether it
	// runs (accel.SelfTest). Nil means not tested: a warning.
	KVMGuests func(ctx context.Context) (accel.Result, error)
}

// FileStat is what the checks need to know about a file.
type FileStat struct {
	Mode  fs.FileMode
	Owner string // user name, or the numeric id when it has no name
	Group string // group name, or the numeric id when it has no name
}

// User is a user account and the names of its groups.
type User struct {
	Name   string
	Root   bool // uid 0: every permission check passes
	Groups []string
}

// LibvirtInfo is what a libvirt daemon says about itself.
type LibvirtInfo struct {
	Version    string // libvirt library version of the daemon, "9.0.0"
	Hypervisor string // hypervisor version, "7.2.22"
	// Security lists the daemon's security drivers (its capabilities'
	// <secmodel>): "apparmor", "selinux", "dac".
	Security []string
}

// DiskSpace is the free space of one filesystem.
type DiskSpace struct {
	// Free is the space available to unprivileged users, in bytes.
	Free uint64
	// Filesystem identifies the filesystem (its device number), so paths on
	// the same one are counted together.
	Filesystem string
	// Measured is the existing path that was measured.
	Measured string
}
