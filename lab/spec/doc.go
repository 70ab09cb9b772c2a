// Package spec holds what a user asks for when building a lab (Spec) and the
// checked, fully derived description of what will be built (Plan).
//
// A Spec is a request: every field maps to a command-line flag of `lab create`
// and `lab render`, and Validate reports every problem at once, each naming
// the flag and how to fix it. Plan turns a valid Spec into names, addresses,
// MAC addresses, volumes and etcd cluster strings with pure functions, so
// render, create, status and destroy agree on every name without talking to
// libvirt. Checks that need the host (overlapping networks and routes, the
// base image, the etcd binary) belong to the caller; CheckOverlap is the pure
// half of the first.
package spec
