// Package images provides the base guest images the lab's VMs boot: built
// locally from Debian packages, or fetched as a distribution's official
// cloud image. Both are stored in the content-addressed cache
// (package images/cache) under the kind "images".
//
// Names:
//
//   - "debian-12" (or "debian-<N>" for another suite) is an image Build
//     made with debootstrap. It boots by direct kernel boot: the entry holds
//     disk.qcow2 (an ext4 filesystem labelled "root" on the whole disk, no
//     partition table, so root=/dev/vda), vmlinuz and initrd.img.
//   - "debian-12-disk" is the same root filesystem built with BootDisk
//     (lab image build --boot disk): an MBR disk with one bootable
//     partition at 1 MiB holding the ext4 root, and GRUB for BIOS in the
//     boot sectors, written without loop devices or grub-install. It boots
//     from disk like a cloud image (root=/dev/vda1), which makes that path
//     testable where the cloud images cannot be downloaded.
//   - "debian-12-cloud" and "ubuntu-24.04-cloud" are images Fetch
//     downloaded. They boot from the disk's own boot loader. Resolve also
//     accepts the distro name alone ("ubuntu-24.04") when no built image has
//     that name.
//
// Cache keys are derived from what determines the content: for a built
// image a hash of the build inputs (suite, architecture, package list,
// disk size, builder version, boot mode) but not the mirror, which only changes where
// the same packages come from; for a fetched image the published digest.
package images
