// Package cloudinit renders a NoCloud seed for one node: meta-data,
// network-config (version 2) and a #cloud-config user-data document, all
// marshalled from typed values with gopkg.in/yaml.v3, plus extra files (the
// etcd binaries) carried on the same ISO 9660 image with volume label cidata.
//
// The target is the cloud-init that Debian 12 ships (22.4), whose quirks
// shape the types: a default route is written as gateway4 because its v2
// parser rejects "to: default" and renders other routes with the net-tools
// route command the image lacks; mounts name the device itself because a
// LABEL= spec is dropped; the ISO writer (kdomanski/iso9660) lower-cases and
// mangles file names, so extra files get simple names that survive it.
//
// WriteISO and WriteDir write the same bytes for every file, so what
// "lab render" shows is what a node boots with.
package cloudinit
