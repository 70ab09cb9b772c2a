// Package virttest is an in-memory, stateful stand-in for the libvirt
// daemon, for tests of code built on package virt.
//
// Fake implements the go-libvirt calls virt uses. It keeps the objects as
// parsed libvirtxml values, enforces the rules of the real daemon that the
// lab depends on (names and UUIDs, bridges and subnets, active versus
// defined, volumes as files that outlive their pool's definition, domains
// that need their network, disks and kernel to start), and answers with the
// real libvirt.Error codes. Tests seed it with objects the lab must not touch
// (AddNetwork, AddPool, AddVolume, AddDomain, AddFile), inject failures
// (FailOn, FailAt) and then assert the resulting state (Objects, Network,
// Pool, Volume, Domain) rather than the calls made.
//
// It also answers the calls virt finds by type assertion: the host's name,
// versions, capabilities, KVM and size (SetHost; DefaultHost by default),
// and boot tests, transient domains whose serial console prints what
// SetConsole gave their domain type and ends when they stop. A contract
// test in package virt runs the same calls against the real daemon.
package virttest
