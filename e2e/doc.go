// Package e2e holds the end-to-end tests: they build the lab binary and
// drive it against the real libvirtd, booting real VMs under TCG (build tag
// e2e; `make e2e`). Nothing is faked: a missing libvirt fails the tests
// loudly instead of skipping them.
package e2e
