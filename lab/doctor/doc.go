// Package doctor checks whether this host can run a lab: the libvirt daemon
// answers, qemu is installed, /dev/kvm is usable by the user qemu runs as,
// there is memory and disk for the nodes, and the base image, the etcd
// binary and the image build tools are there. Every check that is not ok
// carries the exact command that fixes it.
//
// Everything the checks learn about the host comes through Lookups, so the
// checks are pure and tested with fakes; DefaultLookups reads the real host,
// talking to libvirt through package virt (its socket discovery and dial),
// and KVMSelfTest boots the base image through accel.Verdict.
// Run never fails: a probe error becomes the detail of a failed check.
package doctor
