// Package guest owns what goes into a lab's VMs and what runs there: every
// path and file name on a node (etcd's binary, certificates, unit and data
// directory), how the etcd unit is installed (by the seed at create, over
// SSH by a scenario), the device-mapper delay device under the data disk
// and the disk profiles loaded into it, and the fdatasync probe, which is
// this program itself run on the node, with the summary of what it measures.
//
// A fact about the guest lives here once; render, create and the scenarios
// ask for it, so the copies cannot drift apart.
//
// The disk profiles (ssd: nothing added; hdd: a laptop hard disk that three
// VMs share) work on two levels. Inside the guest the data disk sits under
// a device-mapper delay target (DelayDevice), whose write and flush delays
// change live with dmsetup suspend/load/resume: QEMU's throttling does not
// slow flushes, and an fsync is what etcd waits for. On the host, libvirt's
// block I/O caps (HostIOCap) add the IOPS and bandwidth of a 5400 rpm disk.
// The probe is the one etcd's documentation recommends for judging a disk.
package guest
