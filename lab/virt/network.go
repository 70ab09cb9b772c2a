package virt

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// NetworkInfo describes a libvirt network, ours or not.
type NetworkInfo struct {
	Name     string
	Bridge   string
	Prefixes []netip.Prefix // address and length of each <ip>, e.g. 192.168.199.1/24; Masked() is the subnet
	Lab      string         // the owning lab; empty when unmarked
	Active   bool
	UUID     string
}

// Networks lists every libvirt network, for overlap checks and status.
func (p *Provider) Networks(ctx context.Context) ([]NetworkInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing networks: %w", err)
	}
	nets, _, err := p.c.ConnectListAllNetworks(1, 0)
	if err != nil {
		return nil, fmt.Errorf("listing networks: %w", err)
	}
	var out []NetworkInfo
	for _, n := range nets {
		info, err := p.networkInfo(n)
		if isNotFound(err) {
			continue // removed while we were looking
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b NetworkInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (p *Provider) networkInfo(n libvirt.Network) (NetworkInfo, error) {
	doc, err := p.c.NetworkGetXMLDesc(n, 0)
	if err != nil {
		return NetworkInfo{}, fmt.Errorf("reading network %q: %w", n.Name, err)
	}
	var def libvirtxml.Network
	if err := def.Unmarshal(doc); err != nil {
		return NetworkInfo{}, fmt.Errorf("parsing network %q: %w", n.Name, err)
	}
	active, err := p.c.NetworkIsActive(n)
	if err != nil {
		return NetworkInfo{}, fmt.Errorf("reading state of network %q: %w", n.Name, err)
	}
	info := NetworkInfo{Name: def.Name, Prefixes: networkPrefixes(def), Active: active == 1, UUID: def.UUID}
	if def.Bridge != nil {
		info.Bridge = def.Bridge.Name
	}
	if def.Metadata != nil {
		if m, ok := parseMarker(def.Metadata.XML); ok {
			info.Lab = m.Lab
		}
	}
	return info, nil
}

// networkPrefixes reads the subnets of a network's <ip> elements, written
// either with prefix= or with netmask=.
func networkPrefixes(def libvirtxml.Network) []netip.Prefix {
	var out []netip.Prefix
	for _, ip := range def.IPs {
		addr, err := netip.ParseAddr(ip.Address)
		if err != nil {
			continue
		}
		bits := int(ip.Prefix)
		if ip.Netmask != "" {
			mask, err := netip.ParseAddr(ip.Netmask)
			if err != nil {
				continue
			}
			bits = maskBits(mask)
		} else if ip.Prefix == 0 {
			bits = 24 // libvirt's default for IPv4 without prefix or netmask
			if addr.Is6() {
				bits = 64
			}
		}
		if pfx := netip.PrefixFrom(addr, bits); pfx.IsValid() {
			out = append(out, pfx)
		}
	}
	return out
}

func maskBits(mask netip.Addr) int {
	n := 0
	for _, b := range mask.AsSlice() {
		for ; b&0x80 != 0; b <<= 1 {
			n++
		}
	}
	return n
}

// EnsureNetwork defines and starts the lab's network, or starts it when it
// exists already. It refuses, with ErrNotOwned or ErrConflict, when a
// network of that name belongs to someone else or has another definition,
// and when another network uses the same bridge or an overlapping subnet.
// created reports whether the network was defined by this call.
func (p *Provider) EnsureNetwork(ctx context.Context, s NetworkSpec) (created bool, err error) {
	def, err := networkDef(s)
	if err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("creating network %q: %w", s.Name, err)
	}
	nets, err := p.Networks(ctx)
	if err != nil {
		return false, fmt.Errorf("creating network %q: %w", s.Name, err)
	}
	if i := slices.IndexFunc(nets, func(n NetworkInfo) bool { return n.Name == s.Name }); i >= 0 {
		return false, p.startExistingNetwork(ctx, s, nets[i])
	}
	if err := networkConflict(s, nets); err != nil {
		return false, fmt.Errorf("creating network %q: %w", s.Name, err)
	}

	doc, err := def.Marshal()
	if err != nil {
		return false, fmt.Errorf("creating network %q: %w", s.Name, err)
	}
	n, err := p.c.NetworkDefineXML(doc)
	if err != nil {
		return false, fmt.Errorf("defining network %q: %w", s.Name, err)
	}
	if err := ctx.Err(); err != nil {
		return true, fmt.Errorf("starting network %q: %w", s.Name, err)
	}
	if err := p.c.NetworkCreate(n); err != nil {
		err = fmt.Errorf("starting network %q: %w", s.Name, err)
		// Leave nothing half-made behind: a defined, inactive network
		// would hold the name and the bridge.
		if uerr := p.c.NetworkUndefine(n); uerr != nil {
			return true, errors.Join(err, fmt.Errorf("undefining network %q after the failed start: %w", s.Name, uerr))
		}
		return false, err
	}
	return true, nil
}

// startExistingNetwork adopts a network of the lab's name when it is ours
// and matches s, and starts it when it is down.
func (p *Provider) startExistingNetwork(ctx context.Context, s NetworkSpec, have NetworkInfo) error {
	if have.Lab != s.Lab {
		owner := ownerText(marker{Lab: have.Lab}, have.Lab != "")
		return fmt.Errorf("creating network %q: a network of that name exists and %s; remove it with 'virsh net-destroy %s; virsh net-undefine %s' if it is not needed, or choose another --lab: %w",
			s.Name, owner, s.Name, s.Name, ErrNotOwned)
	}
	if s.UUID != "" && !sameUUID(have.UUID, s.UUID) {
		return fmt.Errorf("creating network %q: a network of that name and lab exists with UUID %s, not the %s this lab's state records: "+
			"run 'lab destroy' to remove the lab's leftovers, or 'virsh net-destroy %s; virsh net-undefine %s': %w", s.Name, have.UUID, s.UUID, s.Name, s.Name, ErrNotOwned)
	}
	if have.Bridge != s.Bridge || !slices.Equal(have.Prefixes, []netip.Prefix{netip.PrefixFrom(s.Gateway, s.Prefix)}) {
		return fmt.Errorf("creating network %q: it exists with bridge %q and addresses %v, not %q and %v; destroy the lab first: %w",
			s.Name, have.Bridge, have.Prefixes, s.Bridge, netip.PrefixFrom(s.Gateway, s.Prefix), ErrConflict)
	}
	if have.Active {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("starting network %q: %w", s.Name, err)
	}
	n, err := p.c.NetworkLookupByName(s.Name)
	if err != nil {
		return fmt.Errorf("looking up network %q: %w", s.Name, err)
	}
	if err := p.c.NetworkCreate(n); err != nil {
		return fmt.Errorf("starting network %q: %w", s.Name, err)
	}
	return nil
}

// networkConflict names the first other network that shares s's bridge or
// overlaps its subnet.
func networkConflict(s NetworkSpec, nets []NetworkInfo) error {
	subnet := s.Subnet()
	for _, n := range nets {
		if n.Name == s.Name {
			continue
		}
		if n.Bridge != "" && n.Bridge == s.Bridge {
			return fmt.Errorf("bridge %q is already used by network %q: %w", s.Bridge, n.Name, ErrConflict)
		}
		for _, pfx := range n.Prefixes {
			if pfx.Overlaps(subnet) {
				return fmt.Errorf("subnet %v overlaps %v of network %q: %w", subnet, pfx.Masked(), n.Name, ErrConflict)
			}
		}
	}
	return nil
}

// DeleteNetwork stops and undefines the lab's network. It does nothing when
// the network is absent and refuses (ErrNotOwned) when it is not the lab's.
func (p *Provider) DeleteNetwork(ctx context.Context, name, lab string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting network %q: %w", name, err)
	}
	n, err := p.c.NetworkLookupByName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up network %q: %w", name, err)
	}
	info, err := p.networkInfo(n)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Lab != lab || lab == "" {
		owner := ownerText(marker{Lab: info.Lab}, info.Lab != "")
		return fmt.Errorf("refusing to delete network %q for lab %q: %s: %w", name, lab, owner, ErrNotOwned)
	}
	if info.Active {
		if err := p.c.NetworkDestroy(n); err != nil && !isNotFound(err) {
			return fmt.Errorf("stopping network %q: %w", name, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting network %q: %w", name, err)
	}
	if err := p.c.NetworkUndefine(n); err != nil && !isNotFound(err) {
		return fmt.Errorf("undefining network %q: %w", name, err)
	}
	return nil
}
