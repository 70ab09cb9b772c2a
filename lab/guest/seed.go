package guest

import "github.com/kthw-lab/lab/cloudinit"

// CertFiles are a node's certificate files as its seed writes them into
// CertDir: the CA readable by all, the member's key pair by root only.
func CertFiles(caPEM, certPEM, keyPEM []byte) []cloudinit.File {
	return []cloudinit.File{
		{Path: CertPath(CAFile), Content: string(caPEM), Permissions: 0o644},
		{Path: CertPath(CertFile), Content: string(certPEM), Permissions: 0o600},
		{Path: CertPath(KeyFile), Content: string(keyPEM), Permissions: 0o600},
	}
}

// UnitFile is etcd's unit as a node's seed writes it; ResetScript installs
// the same bytes at the same path over SSH.
func UnitFile(unit []byte) cloudinit.File {
	return cloudinit.File{Path: UnitPath, Content: string(unit), Permissions: unitMode}
}

// unitMode is the unit file's mode, however it is installed.
const unitMode = 0o644

// DataStorage is how a node's seed prepares the data disk: a boot command
// that puts the delay device (no delay yet) over DataDisk, so a disk
// profile can change it live, then an ext4 file system on DataDevice
// (cloud-init's disk_setup), mounted at DataDir by runcmd entries rather
// than cloud-init's mounts module (see cloudinit.Mount.Commands). bootcmd
// runs before disk_setup, disk_setup before runcmd.
func DataStorage() (boot cloudinit.Command, fs cloudinit.Filesystem, mount []cloudinit.Command, err error) {
	mount, err = cloudinit.Mount{Device: DataDevice, Dir: DataDir, Type: "ext4", Options: cloudinit.DefaultMountOptions, PassNo: 2}.Commands()
	return cloudinit.Shell(CreateDelayScript()),
		cloudinit.Filesystem{Label: DelayDevice, Filesystem: "ext4", Device: DataDevice, Partition: "auto"},
		mount, err
}
