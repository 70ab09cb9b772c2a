package images

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// builderVersion changes whenever Build would produce a different image
// from the same inputs (new configuration steps, different mkfs options),
// so old cache entries are not mistaken for new ones.
//
// 2: the image is configured for its job (cloud-init's datasource and
// modules, masked units, blacklisted modules; see guest.go).
const builderVersion = "2"

// DefaultSuite is the Debian suite Build uses when none is given.
const DefaultSuite = "bookworm"

// diskSize is the virtual size of a built image's disk. The qcow2 is
// sparse, so only the used blocks take space; the rest is room in the
// guest for logs and packages (etcd's data lives on a separate disk).
const diskSize int64 = 4 << 30

// diskBootSuffix ends the name of an image built with BootDisk, so that
// it never stands in for the kernel-boot image of the same suite.
const diskBootSuffix = "-disk"

// debianVersions maps suites to release numbers for image names.
var debianVersions = map[string]string{
	"buster":   "10",
	"bullseye": "11",
	"bookworm": "12",
	"trixie":   "13",
}

// BuiltName is the image name Build gives a suite: "debian-12" for
// bookworm, "debian-<suite>" for suites it does not know the number of.
func BuiltName(suite string) string {
	if v, ok := debianVersions[suite]; ok {
		return "debian-" + v
	}
	return "debian-" + suite
}

// BuiltDiskName is the image name Build gives a suite built with BootDisk:
// "debian-12-disk" for bookworm.
func BuiltDiskName(suite string) string { return BuiltName(suite) + diskBootSuffix }

// builtName is the name of the image Build makes for suite and boot.
func builtName(suite string, boot Boot) string {
	if boot == BootDisk {
		return BuiltDiskName(suite)
	}
	return BuiltName(suite)
}

// Packages is the package list Build passes to debootstrap --include for
// arch. The set is the one known to boot under direct kernel boot with
// cloud-init (python3-cffi-backend must be named or debootstrap fails to
// resolve cloud-init's dependencies), plus locales for cloud-init's locale
// module, e2fsprogs for formatting the data disk, dmsetup for the dm-delay
// slow-disk emulation, and dbus, without which systemctl and journalctl
// fail for any user but root ("Failed to connect to bus").
func Packages(arch string) []string {
	pkgs := []string{
		"ca-certificates",
		"cloud-init",
		"dbus",
		"dmsetup",
		"e2fsprogs",
		"ifupdown",
		"iproute2",
		"isc-dhcp-client",
		"kmod",
		"linux-image-cloud-" + arch,
		"locales",
		"netbase",
		"openssh-server",
		"python3-cffi-backend",
		"sudo",
		"systemd-sysv",
		"udev",
	}
	slices.Sort(pkgs)
	return pkgs
}

// buildInputs is everything that decides what Build produces.
type buildInputs struct {
	Suite    string
	Arch     string
	Packages []string
	// Boot is BootKernel (the zero value means the same) or BootDisk.
	Boot Boot
}

// name is the image name these inputs build.
func (in buildInputs) name() string { return builtName(in.Suite, in.Boot) }

// Key is the cache key of the image built from these inputs, such as
// "debian-12-1f2e3d4c5b6a7988" or "debian-12-disk-…". The mirror is
// deliberately not part of it, nor is the host's GRUB version: both only
// change where the same things come from. The guest's configuration (files,
// directories, masked units) is, by its digest.
func (in buildInputs) Key() string {
	pkgs := slices.Clone(in.Packages)
	slices.Sort(pkgs)
	h := sha256.New()
	fmt.Fprintf(h, "lab image build %s\nsuite %s\narch %s\nvariant minbase\ndisk ext4 %d\npackages %s\nguest %s\n",
		builderVersion, in.Suite, in.Arch, diskSize, strings.Join(pkgs, ","), guestConfigDigest())
	if in.Boot == BootDisk {
		fmt.Fprintf(h, "boot disk msdos start %d grub i386-pc root %s\n", partitionStart, diskRootDevice)
	}
	return in.name() + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// debArch maps a Go architecture to Debian's name for it. Debian ships a
// cloud kernel (linux-image-cloud-*) for these two only.
func debArch(goarch string) (string, error) {
	switch goarch {
	case "amd64", "arm64":
		return goarch, nil
	}
	return "", fmt.Errorf("image build supports amd64 and arm64 hosts, not %s", goarch)
}
