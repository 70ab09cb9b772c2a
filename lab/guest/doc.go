// Package guest owns what goes into a lab's VMs and what runs there: every
// path and file name on a node (etcd's binary, certificates, unit and data
// directory), how the etcd unit is installed (by the seed at create, over
// SSH by a scenario), the device-mapper delay device under the data disk,
// and the fdatasync probe, which is this program itself run on the node.
//
// A fact about the guest lives here once; render, create, disk and the
// scenarios ask for it, so the copies cannot drift apart.
package guest
