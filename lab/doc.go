// Package lab is the lab model and its lifecycle: a validated spec.Plan
// becomes libvirt objects (network, pools, volumes, domains) and a running
// etcd cluster, recorded in a State on disk that status and destroy read
// back.
//
// The State is written before the first resource is created and updated
// before each further one, so an interrupted create can always be destroyed:
// destroy removes what the state lists, in reverse order, and nothing the
// lab does not own (lab/virt refuses foreign objects).
//
// Sub-packages hold the parts: spec (request and plan), pki, virt (libvirt),
// etcd (unit, client, health), ssh (pinned host keys), wait (named
// conditions), doctor and progress.
package lab
