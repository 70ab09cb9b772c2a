package images

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kthw-lab/lab/cloudinit"
)

// A lab guest has one job: boot, take its seed, run etcd. What is the same
// on every node is decided here, at build time, so that under emulation
// the first boot does only what differs per node (the seed).

// MaskedUnits are units no lab needs; the image links them to /dev/null so
// that nothing (a .wants link, a socket, a timer) starts them. Periodic
// maintenance (apt, dpkg backups, e2scrub, fstrim) would compete with etcd
// for the one emulated CPU in the middle of an experiment; pstore and the
// hotplug socket only serve hardware and clouds a lab does not have.
//
// Two of cloud-init's four stages go too: each is a Python process that
// costs seconds to start under emulation. The local stage only finds the
// seed and writes the network configuration before networking starts; the
// init stage (cloud-init.service) does both itself when it runs first,
// bringing the interface up, and runs every module a seed uses (see
// cloudinit.LabSystemConfig). The config stage would run no module. The
// final stage stays, at idle priority (cloudFinalDropIn): it writes the
// result that makes `cloud-init status` say done.
var MaskedUnits = []string{
	"apt-daily-upgrade.service",
	"apt-daily-upgrade.timer",
	"apt-daily.service",
	"apt-daily.timer",
	"cloud-config.service",
	"cloud-init-hotplugd.socket",
	"cloud-init-local.service",
	"dpkg-db-backup.service",
	"dpkg-db-backup.timer",
	"e2scrub_all.service",
	"e2scrub_all.timer",
	"e2scrub_reap.service",
	"fstrim.service",
	"fstrim.timer",
	"systemd-pstore.service",
}

// BlacklistedModules are kernel modules udev would load for devices that
// emulated machines advertise but a lab never uses: the guest's own KVM
// (TCG's CPU model offers SVM, so udev loads kvm_amd), the PC speaker, the
// input and sensor drivers. blacklist stops only the automatic loading by
// alias, so modprobe by name still works.
var BlacklistedModules = []string{
	"ccp",
	"evdev",
	"input_leds",
	"joydev",
	"kvm",
	"kvm_amd",
	"kvm_intel",
	"pcspkr",
	"psmouse",
	"serio_raw",
}

// guestFile is a file the build writes into the root filesystem.
type guestFile struct {
	path    string // relative to the root
	content string
}

// guestConfigFiles are the files that make the image a lab guest; the golden
// test shows them whole.
func guestConfigFiles() ([]guestFile, error) {
	cloudCfg, err := cloudinit.LabSystemConfig().Marshal()
	if err != nil {
		return nil, err
	}
	var blacklist strings.Builder
	blacklist.WriteString("# lab: devices of an emulated PC that a lab node never uses.\n")
	for _, m := range BlacklistedModules {
		fmt.Fprintf(&blacklist, "blacklist %s\n", m)
	}
	return []guestFile{
		{cloudinit.SystemConfigPath, string(cloudCfg)},
		{"etc/modprobe.d/lab-blacklist.conf", blacklist.String()},
		// The same on every node, so not on the seed (ssh_pwauth would need
		// cloud-init's set_passwords module, a stage of its own).
		{"etc/ssh/sshd_config.d/50-lab.conf", "# lab: keys only.\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"},
		{"etc/systemd/system/cloud-final.service.d/50-lab.conf", cloudFinalDropIn},
		{"etc/systemd/system/ssh.service.d/50-lab.conf", sshDropIn},
	}, nil
}

// sshDropIn drops Debian's `sshd -t` before sshd starts: a second sshd
// process under emulation, on the path to create's first connection, to
// check a configuration that is the image's own and the seed's host key;
// sshd checks both again when it starts and fails loudly.
const sshDropIn = "# lab: sshd checks its configuration itself when it starts.\n[Service]\nExecStartPre=\n"

// cloudFinalDropIn runs cloud-init's final stage, which runs no module of a
// lab seed, only when nothing else in the guest wants the CPU: sshd and
// etcd start at the same time.
const cloudFinalDropIn = "# lab: the final stage runs no module; it yields to sshd and etcd.\n" +
	"[Service]\nNice=19\nCPUSchedulingPolicy=idle\nIOSchedulingClass=idle\n"

// guestDirs are made in the image so the seed only fills them: etcd's
// configuration (certificates, written 0600 by the seed) and data
// directory (the mount point of the data disk).
var guestDirs = map[string]os.FileMode{
	"etc/etcd":     0o755,
	"var/lib/etcd": 0o700,
}

// guestConfigDigest is a digest of everything configureGuest puts into an
// image; it is part of the cache key, so a change to the guest's
// configuration builds a new image rather than reusing an old one.
func guestConfigDigest() string {
	h := sha256.New()
	files, err := guestConfigFiles()
	if err != nil {
		// The build fails on the same error; the key only has to differ.
		fmt.Fprintf(h, "error %v\n", err)
	}
	for _, f := range files {
		fmt.Fprintf(h, "file %s %d\n%s\n", f.path, len(f.content), f.content)
	}
	for _, d := range slices.Sorted(maps.Keys(guestDirs)) {
		fmt.Fprintf(h, "dir %s %o\n", d, guestDirs[d])
	}
	fmt.Fprintf(h, "masked %s\n", strings.Join(MaskedUnits, ","))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// configureGuest writes the guest's configuration into root and masks
// MaskedUnits.
func configureGuest(root string) error {
	files, err := guestConfigFiles()
	if err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("writing /%s in the image: %w", f.path, err)
		}
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			return fmt.Errorf("writing /%s in the image: %w", f.path, err)
		}
	}
	for _, d := range slices.Sorted(maps.Keys(guestDirs)) {
		p := filepath.Join(root, d)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("creating /%s in the image: %w", d, err)
		}
		if err := os.Mkdir(p, guestDirs[d]); err != nil && !os.IsExist(err) {
			return fmt.Errorf("creating /%s in the image: %w", d, err)
		}
		if err := os.Chmod(p, guestDirs[d]); err != nil {
			return fmt.Errorf("creating /%s in the image: %w", d, err)
		}
	}
	units := filepath.Join(root, "etc", "systemd", "system")
	if err := os.MkdirAll(units, 0o755); err != nil {
		return fmt.Errorf("masking units in the image: %w", err)
	}
	for _, u := range MaskedUnits {
		link := filepath.Join(units, u)
		if err := os.Remove(link); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("masking %s in the image: %w", u, err)
		}
		if err := os.Symlink("/dev/null", link); err != nil {
			return fmt.Errorf("masking %s in the image: %w", u, err)
		}
	}
	return nil
}
