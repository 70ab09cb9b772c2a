// Package slowdisk is the story's experiment: the same three VMs, with the
// etcd cluster bootstrapped afresh on each arm's disk and raft timeouts —
// ssd with the defaults, hdd with the defaults (the endless elections of a
// notebook's shared hard disk), hdd-tuned with timeouts derived from the
// fsync latency measured on that disk — observed under a steady write
// workload, then compared side by side.
//
// A cluster must bootstrap on the disk under test: a running leader
// survives a slow fsync, but an election that needs every vote fsynced
// keeps timing out (DESIGN.md). So each arm stops etcd, wipes its data,
// applies the disk profile and timeouts, and starts all members together.
package slowdisk
