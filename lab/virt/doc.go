// Package virt is the libvirt provider of the lab: it creates, inspects and
// removes the networks, storage pools, volumes and domains a lab is made of.
//
// It talks to libvirtd with the pure-Go RPC client github.com/digitalocean/go-libvirt
// through a narrow seam (the unexported conn interface, the only calls the
// lab makes), and it writes every XML document with libvirt.org/go/libvirtxml
// from pure functions (NetworkXML, PoolXML, VolumeXML, DomainXML) that are
// checked against golden files. Package virttest holds a stateful fake of the
// seam for tests that must run without a hypervisor.
//
// Ownership: networks and domains carry a <lab:lab name="LAB"/> element in
// the project's XML namespace (Namespace) inside <metadata>; storage pools
// and volumes cannot hold metadata, so their names start with the lab's name
// and a dash (Owned). Every delete refuses an object that is not marked as the
// caller's, and every ensure refuses to adopt or collide with a foreign one.
package virt
