// Package disk holds the slow-disk side of the lab: the disk profiles
// applied live to each node's etcd data disk (ssd: nothing added; hdd: a
// laptop hard disk that three VMs share), and the fdatasync probe that
// etcd's documentation recommends for judging a disk.
//
// The hdd profile works on two levels. Inside the guest the data disk sits
// under a device-mapper delay target (guest.DelayDevice), whose write and flush
// delays change live with dmsetup suspend/load/resume: QEMU's throttling
// does not slow flushes, and an fsync is what etcd waits for. On the host,
// libvirt's block I/O caps add the IOPS and bandwidth of a 5400 rpm disk.
package disk
