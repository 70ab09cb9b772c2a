package images

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// A BootDisk image is the same root filesystem as a BootKernel one, laid
// out like a cloud image: an MBR with one bootable Linux partition and GRUB
// for BIOS in front of it, so VMs start it from the disk. Nothing is
// mounted and no loop device is used: sfdisk writes the partition table
// into the raw file, mkfs.ext4 -E offset builds the filesystem inside the
// partition, and the boot sectors are written as file contents.
const (
	sectorSize = 512
	// partitionStart is the first sector of the root partition: 1 MiB in,
	// as partitioning tools align it, which leaves sectors 1–2047 for GRUB's
	// core.img.
	partitionStart = 2048
	// diskRootDevice is the root partition as the guest's virtio disk
	// names it.
	diskRootDevice = "/dev/vda1"
	// diskLabelID is the MBR disk identifier; fixed so that two builds of
	// the same inputs write the same partition table.
	diskLabelID = "0x6c616231"
	// grubPrefix is where core.img looks for grub.cfg and modules: the
	// first partition of the first BIOS disk.
	grubPrefix = "(hd0,msdos1)/boot/grub"
	// defaultGrubDir holds GRUB's i386-pc images and modules (grub-pc-bin).
	defaultGrubDir = "/usr/lib/grub/i386-pc"
)

// diskCmdline is the kernel command line lab create passes with direct
// kernel boot (lab's kernelCmdline, which this package cannot import),
// with the root partition instead of the whole disk.
const diskCmdline = "root=" + diskRootDevice + " rw console=ttyS0,115200n8 net.ifnames=0 biosdevname=0"

// grubModules are built into core.img, so the boot needs nothing from
// the disk but grub.cfg and the kernel; the full module set is copied to
// /boot/grub/i386-pc as well, as grub-install would.
var grubModules = []string{
	"biosdisk", "part_msdos", "ext2", // find and read the root partition
	"normal", "configfile", "search", "echo", "test", // run grub.cfg
	"linux", "boot", // load and start the kernel and initrd
	"serial", "terminal", // menu on the serial console the domain logs
}

// Offsets in GRUB's i386-pc images (grub/include/grub/offsets.h).
const (
	// bootCodeSize is the part of boot.img written to sector 0: the code
	// before the MBR's disk identifier and partition table.
	bootCodeSize = 440
	// bootKernelSector is the 64-bit sector number boot.img loads
	// core.img's first sector from.
	bootKernelSector = 0x5c
	// blocklistOffset is diskboot.img's blocklist at the end of core.img's
	// first sector: 64-bit start sector, 16-bit sector count, 16-bit
	// segment. grub-mkimage fills the count; the start defaults to 2, the
	// sector after diskboot itself when core.img sits at sector 1.
	blocklistOffset = sectorSize - 12
)

// grubConfig is /boot/grub/grub.cfg for kernel version.
func grubConfig(version string) string {
	return fmt.Sprintf(`# Written by lab image build. The image has no grub package: nothing
# regenerates this file.
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
menuentry "Debian GNU/Linux, %[1]s" {
	linux /boot/vmlinuz-%[1]s %[2]s
	initrd /boot/initrd.img-%[1]s
}
`, version, diskCmdline)
}

// partitionScript is sfdisk's input: a DOS label with one bootable Linux
// partition from partitionStart to the end of the disk.
func partitionScript() string {
	return fmt.Sprintf("label: dos\nlabel-id: %s\nunit: sectors\n\nstart=%d, type=83, bootable\n",
		diskLabelID, partitionStart)
}

// partitionBytes is the size of the root partition.
func partitionBytes() int64 { return diskSize - partitionStart*sectorSize }

// grubFiles writes grub.cfg for the newest kernel and copies GRUB's
// modules into the root filesystem, before mkfs takes the tree.
func (s *buildRun) grubFiles(context.Context) error {
	version, err := s.kernelVersion()
	if err != nil {
		return err
	}
	s.meta[metaKernel] = version
	dir := filepath.Join(s.root(), "boot", "grub")
	if err := os.MkdirAll(filepath.Join(dir, "i386-pc"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "grub.cfg"), []byte(grubConfig(version)), 0o644); err != nil {
		return fmt.Errorf("writing /boot/grub/grub.cfg in the image: %w", err)
	}
	entries, err := os.ReadDir(s.grubDir)
	if err != nil {
		return fmt.Errorf("reading GRUB's modules: %w", err)
	}
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); e.Type().IsRegular() && (ext == ".mod" || ext == ".lst") {
			if err := copyFile(filepath.Join(s.grubDir, e.Name()), filepath.Join(dir, "i386-pc", e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// partition makes the sparse raw disk and writes its partition table.
func (s *buildRun) partition(ctx context.Context) error {
	if err := s.createRawDisk(); err != nil {
		return err
	}
	_, err := s.run.RunInput(ctx, []byte(partitionScript()), "sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", s.rawDisk())
	return err
}

// mkfsPartition makes the ext4 filesystem from the root tree inside
// partition 1 of the raw disk. mkfs.ext4 is given the partition's size:
// from an offset alone it would size the filesystem to the whole file.
func (s *buildRun) mkfsPartition(ctx context.Context) error {
	_, err := s.run.Run(ctx, "mkfs.ext4", "-q", "-F", "-L", "root", "-d", s.root(),
		"-E", fmt.Sprintf("offset=%d", partitionStart*sectorSize),
		s.rawDisk(), fmt.Sprintf("%dk", partitionBytes()/1024))
	return err
}

func (s *buildRun) coreImage() string { return filepath.Join(s.work, "core.img") }

// bootSectors makes GRUB's core.img and writes it and boot.img into the
// raw disk where grub-install would on a device: boot.img's code into the
// MBR (sparing the partition table sfdisk wrote) and core.img from sector
// 1, in the gap before the partition.
func (s *buildRun) bootSectors(ctx context.Context) error {
	args := append([]string{"-O", "i386-pc", "-d", s.grubDir, "-p", grubPrefix, "-o", s.coreImage()}, grubModules...)
	if _, err := s.run.Run(ctx, "grub-mkimage", args...); err != nil {
		return err
	}
	boot, err := os.ReadFile(filepath.Join(s.grubDir, "boot.img"))
	if err != nil {
		return fmt.Errorf("reading GRUB's boot.img: %w", err)
	}
	core, err := os.ReadFile(s.coreImage())
	if err != nil {
		return err
	}
	if err := checkBootImages(boot, core); err != nil {
		return err
	}
	f, err := os.OpenFile(s.rawDisk(), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = writeBootSectors(f, boot, core)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing GRUB into %s: %w", s.rawDisk(), err)
	}
	s.meta[metaBootloader] = "grub i386-pc"
	s.meta[metaRootDevice] = diskRootDevice
	return nil
}

// checkBootImages makes sure the two images chain as they will be placed:
// boot.img loads sector 1, and core.img's blocklist reads the rest of it
// from sector 2 on, all before the partition.
func checkBootImages(boot, core []byte) error {
	if len(boot) != sectorSize {
		return fmt.Errorf("GRUB's boot.img is %d bytes, want %d", len(boot), sectorSize)
	}
	if got := binary.LittleEndian.Uint64(boot[bootKernelSector:]); got != 1 {
		return fmt.Errorf("GRUB's boot.img loads core.img from sector %d, want 1", got)
	}
	sectors := (int64(len(core)) + sectorSize - 1) / sectorSize
	if sectors < 2 {
		return fmt.Errorf("GRUB's core.img is %d bytes: too small to be one", len(core))
	}
	if sectors > partitionStart-1 {
		return fmt.Errorf("GRUB's core.img takes %d sectors; only %d fit before the partition", sectors, partitionStart-1)
	}
	start := binary.LittleEndian.Uint64(core[blocklistOffset:])
	count := binary.LittleEndian.Uint16(core[blocklistOffset+8:])
	if start != 2 || int64(count) != sectors-1 {
		return fmt.Errorf("GRUB's core.img reads %d sectors from sector %d; placed at sector 1 it needs %d from sector 2",
			count, start, sectors-1)
	}
	return nil
}

// writeBootSectors writes boot.img's code to sector 0 and core.img from
// sector 1. The partition table must already be there: its signature is
// checked so that a missing table is not silently booted past.
func writeBootSectors(f *os.File, boot, core []byte) error {
	mbr := make([]byte, sectorSize)
	if _, err := f.ReadAt(mbr, 0); err != nil {
		return err
	}
	if mbr[510] != 0x55 || mbr[511] != 0xaa {
		return errors.New("sector 0 has no partition table")
	}
	if _, err := f.WriteAt(boot[:bootCodeSize], 0); err != nil {
		return err
	}
	_, err := f.WriteAt(core, sectorSize)
	return err
}

// grubMissing is the preflight check for GRUB's BIOS images, which are
// files, not programs.
func (b *builder) grubMissing() bool {
	_, err := os.Stat(filepath.Join(b.grubDir, "boot.img"))
	return err != nil
}

// parseBoot reads a --boot value; empty is BootKernel.
func parseBoot(s string) (Boot, error) {
	switch Boot(s) {
	case "", BootKernel:
		return BootKernel, nil
	case BootDisk:
		return BootDisk, nil
	}
	return "", fmt.Errorf("unknown boot %q: use %s or %s", s, BootKernel, BootDisk)
}

// checkDiskArch refuses BootDisk where GRUB for BIOS does not exist.
func checkDiskArch(arch string) error {
	if arch != "amd64" {
		return fmt.Errorf("boot %s needs GRUB for BIOS, which exists for amd64 only, not %s", BootDisk, arch)
	}
	return nil
}
