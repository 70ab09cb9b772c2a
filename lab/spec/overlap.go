package spec

import (
	"errors"
	"fmt"
	"net/netip"
)

// NamedPrefix is an address range already in use on the host, as the caller
// found it in libvirt or the routing table.
type NamedPrefix struct {
	// Kind says where it comes from, e.g. "libvirt network" or "route on eth0".
	Kind string
	// Name is the libvirt network name or the route's device.
	Name   string
	Prefix netip.Prefix
}

// String reads `libvirt network "default" (192.168.122.0/24)`.
func (n NamedPrefix) String() string {
	return fmt.Sprintf("%s %q (%s)", n.Kind, n.Name, n.Prefix.Masked())
}

// Overlaps reports whether a and b share any address. Invalid prefixes and
// prefixes of different address families never overlap.
func Overlaps(a, b netip.Prefix) bool {
	if !a.IsValid() || !b.IsValid() {
		return false
	}
	return a.Overlaps(b)
}

// CheckOverlap reports, joined, every range in existing that overlaps the
// plan's subnet, naming it and suggesting a free --subnet. existing must not
// contain the lab's own network (a re-run of create finds it). Default routes
// (prefix length 0) are skipped: they overlap everything and route nothing
// the lab's bridge would shadow.
func CheckOverlap(plan *Plan, existing []NamedPrefix) error {
	subnet := plan.Network.Subnet
	var errs []error
	for _, e := range existing {
		if e.Prefix.Bits() == 0 || !Overlaps(subnet, e.Prefix) {
			continue
		}
		fix := "choose a free range with --subnet"
		if free, ok := SuggestSubnet(subnet.Bits(), existing); ok {
			fix = fmt.Sprintf("choose a free range, such as --subnet %s", free)
		}
		errs = append(errs, &FieldError{
			Flag:    "--subnet",
			Value:   subnet.String(),
			Problem: "overlaps " + e.String(),
			Fix:     fix,
		})
	}
	return errors.Join(errs...)
}

// SuggestSubnet returns a subnet of the given prefix length inside
// 192.168.0.0/16 that overlaps none of existing, searching upward from the
// story's 192.168.199.0 and wrapping around. bits must be 16..24 for the
// result to hold a node at host number 200.
func SuggestSubnet(bits int, existing []NamedPrefix) (netip.Prefix, bool) {
	if bits < 16 || bits > 24 {
		return netip.Prefix{}, false
	}
	step := 1 << (24 - bits) // in units of the third octet
	count := 256 / step
	start := 199 / step
	for k := range count {
		third := ((start + k) % count) * step
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(third), 0}), bits)
		free := true
		for _, e := range existing {
			if e.Prefix.Bits() != 0 && Overlaps(cand, e.Prefix) {
				free = false
				break
			}
		}
		if free {
			return cand, true
		}
	}
	return netip.Prefix{}, false
}
