package cloudinit

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
)

// NetworkConfig is a network-config document, version 2, limited to what a
// lab node needs: ethernets found by MAC address with static addresses.
type NetworkConfig struct {
	// Ethernets maps an id to an interface. With Debian's ifupdown renderer
	// the id only names the interface if the MAC is not found at boot;
	// cloud-init looks the real name up by MAC.
	Ethernets map[string]Ethernet
}

// Ethernet is one interface, matched by MAC address.
type Ethernet struct {
	// MACAddress selects the interface (match: {macaddress: ...}).
	MACAddress string
	// SetName renames the interface; empty keeps the kernel's name.
	SetName string
	// Addresses are static addresses with their prefix length.
	Addresses []netip.Prefix
	// Gateway4 is the default route's next hop; leave it invalid (zero) for
	// an isolated network, which has no way out.
	Gateway4 netip.Addr
	// Nameservers are optional: the lab needs no DNS, and on an image
	// without resolvconf ifupdown ignores them.
	Nameservers []netip.Addr
	// Search domains go with Nameservers.
	Search []string
}

// The wire types hold strings: yaml.v3 treats a struct with only private
// fields (netip.Addr) as empty and would drop it under omitempty.
type networkDoc struct {
	Version   int                     `yaml:"version"`
	Ethernets map[string]ethernetWire `yaml:"ethernets"`
}

type ethernetWire struct {
	Match       matchWire        `yaml:"match"`
	SetName     string           `yaml:"set-name,omitempty"`
	Addresses   []string         `yaml:"addresses,omitempty"`
	Gateway4    string           `yaml:"gateway4,omitempty"`
	Nameservers *nameserversWire `yaml:"nameservers,omitempty"`
}

type matchWire struct {
	MACAddress string `yaml:"macaddress"`
}

type nameserversWire struct {
	Addresses []string `yaml:"addresses,omitempty"`
	Search    []string `yaml:"search,omitempty"`
}

// Marshal renders the network-config file.
func (n NetworkConfig) Marshal() ([]byte, error) {
	if len(n.Ethernets) == 0 {
		return nil, errors.New("rendering network-config: no ethernets")
	}
	doc := networkDoc{Version: 2, Ethernets: make(map[string]ethernetWire, len(n.Ethernets))}
	for _, id := range slices.Sorted(maps.Keys(n.Ethernets)) {
		w, err := n.Ethernets[id].wire()
		if err != nil {
			return nil, fmt.Errorf("rendering network-config: ethernet %q: %w", id, err)
		}
		doc.Ethernets[id] = w
	}
	b, err := encodeYAML(doc)
	if err != nil {
		return nil, fmt.Errorf("rendering network-config: %w", err)
	}
	return b, nil
}

func (e Ethernet) wire() (ethernetWire, error) {
	mac, err := net.ParseMAC(e.MACAddress)
	if err != nil {
		return ethernetWire{}, fmt.Errorf("parsing MAC address: %w", err)
	}
	// udev compares the lower-case form in sysfs.
	w := ethernetWire{Match: matchWire{MACAddress: mac.String()}, SetName: e.SetName}
	if len(e.Addresses) == 0 {
		return ethernetWire{}, errors.New("no static address")
	}
	for _, p := range e.Addresses {
		if !p.IsValid() {
			return ethernetWire{}, errors.New("invalid address")
		}
		w.Addresses = append(w.Addresses, p.String())
	}
	if e.Gateway4.IsValid() {
		if !e.Gateway4.Is4() {
			return ethernetWire{}, fmt.Errorf("gateway4 %s is not an IPv4 address", e.Gateway4)
		}
		if !slices.ContainsFunc(e.Addresses, func(p netip.Prefix) bool { return p.Masked().Contains(e.Gateway4) }) {
			return ethernetWire{}, fmt.Errorf("gateway4 %s is outside the interface's subnets", e.Gateway4)
		}
		w.Gateway4 = e.Gateway4.String()
	}
	if len(e.Nameservers) > 0 || len(e.Search) > 0 {
		ns := &nameserversWire{Search: e.Search}
		for _, a := range e.Nameservers {
			if !a.IsValid() {
				return ethernetWire{}, errors.New("invalid nameserver address")
			}
			ns.Addresses = append(ns.Addresses, a.String())
		}
		w.Nameservers = ns
	}
	return w, nil
}
