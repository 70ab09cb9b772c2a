package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// buildRun is the state of one build between its steps.
type buildRun struct {
	*builder
	mirror string
	work   string // scratch: root filesystem and raw disk
	out    string // the entry being assembled
	meta   map[string]string
}

func (s *buildRun) root() string    { return filepath.Join(s.work, "root") }
func (s *buildRun) rawDisk() string { return filepath.Join(s.work, "disk.raw") }

func (s *buildRun) debootstrap(ctx context.Context) error {
	_, err := s.run.Run(ctx, "debootstrap",
		"--variant=minbase",
		"--arch="+s.inputs.Arch,
		"--components=main",
		"--include="+strings.Join(s.inputs.Packages, ","),
		s.inputs.Suite, s.root(), s.mirror)
	if ctxErr := ctx.Err(); err != nil && ctxErr != nil {
		return fmt.Errorf("debootstrap interrupted: %w", ctxErr)
	}
	if err != nil {
		// debootstrap's own log says which package failed; its stderr
		// often only says that something did.
		if log := tailOf(filepath.Join(s.root(), "debootstrap", "debootstrap.log"), 1500); log != "" {
			return fmt.Errorf("%w\ndebootstrap.log ends with:\n%s", err, log)
		}
		return err
	}
	return nil
}

// guestFiles are written into the root filesystem after debootstrap.
var guestFiles = map[string]string{
	// The kernel command line mounts root read-only; this remounts it
	// read-write and names it by the label mkfs gives it.
	"etc/fstab": "LABEL=root / ext4 defaults,errors=remount-ro 0 1\n",
	// The locale of every node, generated below at build time (cloud-init
	// does not run its locale module).
	"etc/locale.gen":     "en_US.UTF-8 UTF-8\n",
	"etc/default/locale": "LANG=en_US.UTF-8\n",
	// debootstrap copies the build host's name; cloud-init sets the
	// node's.
	"etc/hostname": "debian\n",
	// Empty: systemd makes a fresh one on each VM's first boot, so clones
	// do not share a machine id (and with it DHCP client ids).
	"etc/machine-id": "",
}

// configure makes the debootstrapped tree a bootable, cloneable guest.
func (s *buildRun) configure(ctx context.Context) error {
	root := s.root()
	for name, content := range guestFiles {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("writing /%s in the image: %w", name, err)
		}
	}
	if _, err := s.run.Run(ctx, "chroot", root, "/usr/sbin/locale-gen"); err != nil {
		return err
	}
	if err := configureGuest(root); err != nil {
		return err
	}
	// Host keys made by openssh-server's postinst would be shared by
	// every VM; cloud-init generates each VM's own on first boot. The
	// downloaded .debs and the host's resolver configuration do not
	// belong in the image either.
	var remove []string
	for _, pattern := range []string{
		"etc/ssh/ssh_host_*",
		"var/cache/apt/archives/*.deb",
		"var/lib/dbus/machine-id",
		"etc/resolv.conf",
	} {
		matches, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return err
		}
		remove = append(remove, matches...)
	}
	for _, p := range remove {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cleaning the image: %w", err)
		}
	}
	return nil
}

// packages records the installed package versions, both as a file in the
// entry and in the manifest.
func (s *buildRun) packages(ctx context.Context) error {
	out, err := s.run.Run(ctx, "dpkg-query",
		"--admindir="+filepath.Join(s.root(), "var", "lib", "dpkg"),
		"-W", "-f=${Package}\t${Version}\n")
	if err != nil {
		return err
	}
	versions := parsePackageVersions(string(out))
	if len(versions) == 0 {
		return fmt.Errorf("dpkg-query listed no installed packages in %s", s.root())
	}
	for _, p := range s.inputs.Packages {
		if _, ok := versions[p]; !ok {
			return fmt.Errorf("package %s was requested but is not installed in the image", p)
		}
	}
	for name, v := range versions {
		s.meta[metaPackage+name] = v
	}
	return os.WriteFile(filepath.Join(s.out, PackagesFile), out, 0o644)
}

func parsePackageVersions(out string) map[string]string {
	versions := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		name, version, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if ok && name != "" && version != "" {
			versions[name] = version
		}
	}
	return versions
}

// kernelVersion is the version of the newest kernel in the root's /boot.
func (s *buildRun) kernelVersion() (string, error) {
	boot := filepath.Join(s.root(), "boot")
	kernels, err := filepath.Glob(filepath.Join(boot, "vmlinuz-*"))
	if err != nil {
		return "", err
	}
	if len(kernels) == 0 {
		return "", fmt.Errorf("no kernel in %s: is linux-image-cloud-%s installed?", boot, s.inputs.Arch)
	}
	sort.Slice(kernels, func(i, j int) bool { return naturalLess(kernels[i], kernels[j]) })
	return strings.TrimPrefix(filepath.Base(kernels[len(kernels)-1]), "vmlinuz-"), nil
}

// kernel copies the newest kernel and its initrd out of /boot for direct
// kernel boot.
func (s *buildRun) kernel(context.Context) error {
	version, err := s.kernelVersion()
	if err != nil {
		return err
	}
	boot := filepath.Join(s.root(), "boot")
	if err := copyFile(filepath.Join(boot, "vmlinuz-"+version), filepath.Join(s.out, KernelFile)); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(boot, "initrd.img-"+version), filepath.Join(s.out, InitrdFile)); err != nil {
		return err
	}
	s.meta[metaKernel] = version
	return nil
}

// mkfs makes the ext4 filesystem from the root tree into a sparse raw file,
// without mounting anything.
func (s *buildRun) mkfs(ctx context.Context) error {
	if err := s.createRawDisk(); err != nil {
		return err
	}
	_, err := s.run.Run(ctx, "mkfs.ext4", "-q", "-F", "-L", "root", "-d", s.root(), s.rawDisk())
	return err
}

// createRawDisk makes the sparse raw disk, once the root tree is known to
// fit.
func (s *buildRun) createRawDisk() error {
	used, err := treeSize(s.root())
	if err != nil {
		return err
	}
	if used > diskSize*3/4 {
		return fmt.Errorf("the root filesystem holds %d bytes, too much for a %d-byte disk", used, diskSize)
	}
	f, err := os.Create(s.rawDisk())
	if err != nil {
		return err
	}
	err = f.Truncate(diskSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("creating %s: %w", s.rawDisk(), err)
	}
	return nil
}

func (s *buildRun) convert(ctx context.Context) error {
	_, err := s.run.Run(ctx, "qemu-img", "convert", "-f", "raw", "-O", "qcow2",
		s.rawDisk(), filepath.Join(s.out, DiskFile))
	return err
}

// naturalLess orders strings with their digit runs compared as numbers,
// so "6.1.0-9" sorts before "6.1.0-37" as kernel versions do.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da != "" && db != "" {
			na, nb := strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// treeSize sums the sizes of the regular files under dir.
func treeSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measuring %s: %w", dir, err)
	}
	return n, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying %s: %w", src, err)
	}
	return out.Close()
}

// tailOf returns the last n bytes of a file, or "" when it cannot be read.
func tailOf(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > n {
		f.Seek(info.Size()-n, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	return strings.TrimSpace(string(data))
}
