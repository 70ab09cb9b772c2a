package virttest

import (
	"net/netip"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// AddNetwork defines a network from XML as someone else would have, and
// starts it when active is set. It panics on XML the fake cannot take.
func (f *Fake) AddNetwork(xml string, active bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.defineNetwork(xml)
	if err != nil {
		panic("virttest: AddNetwork: " + err.Error())
	}
	f.networks[n.Name].active = active
}

// ConnectListAllNetworks implements the libvirt call.
func (f *Fake) ConnectListAllNetworks(_ int32, flags libvirt.ConnectListAllNetworksFlags) ([]libvirt.Network, uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ConnectListAllNetworks", false); err != nil {
		return nil, 0, err
	}
	var out []libvirt.Network
	for _, name := range sortedKeys(f.networks) {
		n := f.networks[name]
		if flags&libvirt.ConnectListNetworksActive != 0 && !n.active ||
			flags&libvirt.ConnectListNetworksInactive != 0 && n.active {
			continue
		}
		out = append(out, netHandle(n.def))
	}
	return out, uint32(len(out)), nil
}

// NetworkLookupByName implements the libvirt call.
func (f *Fake) NetworkLookupByName(name string) (libvirt.Network, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("NetworkLookupByName", false); err != nil {
		return libvirt.Network{}, err
	}
	n, ok := f.networks[name]
	if !ok {
		return libvirt.Network{}, noNetwork(name)
	}
	return netHandle(n.def), nil
}

// NetworkDefineXML implements the libvirt call.
func (f *Fake) NetworkDefineXML(xml string) (libvirt.Network, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("NetworkDefineXML", true); err != nil {
		return libvirt.Network{}, err
	}
	return f.defineNetwork(xml)
}

func (f *Fake) defineNetwork(xml string) (libvirt.Network, error) {
	var def libvirtxml.Network
	if err := def.Unmarshal(xml); err != nil {
		return libvirt.Network{}, lverr(libvirt.ErrXMLDetail, "XML error: %v", err)
	}
	if def.Name == "" {
		return libvirt.Network{}, lverr(libvirt.ErrXMLError, "XML error: missing network name")
	}
	old, exists := f.networks[def.Name]
	if def.UUID == "" {
		_, def.UUID = uuidFor("network", def.Name)
		if exists {
			return libvirt.Network{}, lverr(libvirt.ErrOperationFailed, "operation failed: network '%s' already exists with uuid %s", def.Name, old.def.UUID)
		}
	}
	if exists && old.def.UUID != def.UUID {
		return libvirt.Network{}, lverr(libvirt.ErrOperationFailed, "operation failed: network '%s' already exists with uuid %s", def.Name, old.def.UUID)
	}
	if def.Bridge != nil && def.Bridge.Name != "" {
		for _, other := range f.networks {
			if other.def.Name != def.Name && other.def.Bridge != nil && other.def.Bridge.Name == def.Bridge.Name {
				return libvirt.Network{}, lverr(libvirt.ErrInternalError, "internal error: bridge name '%s' already in use.", def.Bridge.Name)
			}
		}
	}
	if exists {
		old.def, old.persistent = def, true
	} else {
		f.networks[def.Name] = &network{def: def, persistent: true}
	}
	return netHandle(def), nil
}

// NetworkCreate implements the libvirt call. Like the real daemon (which
// finds the route of an active network's subnet), it refuses to start a
// network whose subnet overlaps an active one.
func (f *Fake) NetworkCreate(h libvirt.Network) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("NetworkCreate", true); err != nil {
		return err
	}
	n, err := f.network(h)
	if err != nil {
		return err
	}
	if n.active {
		return lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: network is already active")
	}
	for _, other := range f.networks {
		if other == n || !other.active {
			continue
		}
		for _, a := range prefixes(n.def) {
			for _, b := range prefixes(other.def) {
				if a.Overlaps(b) {
					return lverr(libvirt.ErrInternalError, "internal error: Network is already in use by interface %s", other.def.Bridge.Name)
				}
			}
		}
	}
	n.active = true
	return nil
}

// NetworkDestroy implements the libvirt call.
func (f *Fake) NetworkDestroy(h libvirt.Network) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("NetworkDestroy", true); err != nil {
		return err
	}
	n, err := f.network(h)
	if err != nil {
		return err
	}
	if !n.active {
		return lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: network '%s' is not active", n.def.Name)
	}
	n.active = false
	if !n.persistent {
		delete(f.networks, n.def.Name)
	}
	return nil
}

// NetworkUndefine implements the libvirt call. An active network stays up
// as a transient one until it is destroyed.
func (f *Fake) NetworkUndefine(h libvirt.Network) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("NetworkUndefine", true); err != nil {
		return err
	}
	n, err := f.network(h)
	if err != nil {
		return err
	}
	if !n.persistent {
		return lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: network '%s' is not persistent", n.def.Name)
	}
	if n.active {
		n.persistent = false
		return nil
	}
	delete(f.networks, n.def.Name)
	return nil
}

// NetworkGetXMLDesc implements the libvirt call.
func (f *Fake) NetworkGetXMLDesc(h libvirt.Network, _ uint32) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("NetworkGetXMLDesc", false); err != nil {
		return "", err
	}
	n, err := f.network(h)
	if err != nil {
		return "", err
	}
	return n.def.Marshal()
}

// NetworkIsActive implements the libvirt call.
func (f *Fake) NetworkIsActive(h libvirt.Network) (int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("NetworkIsActive", false); err != nil {
		return 0, err
	}
	n, err := f.network(h)
	if err != nil {
		return 0, err
	}
	if n.active {
		return 1, nil
	}
	return 0, nil
}

// network resolves a handle; a handle to a removed or replaced network is
// stale, as with the real daemon, which looks handles up by UUID.
func (f *Fake) network(h libvirt.Network) (*network, error) {
	n, ok := f.networks[h.Name]
	if !ok || netHandle(n.def).UUID != h.UUID {
		return nil, noNetwork(h.Name)
	}
	return n, nil
}

func netHandle(def libvirtxml.Network) libvirt.Network {
	u, _ := parseUUID(def.UUID)
	return libvirt.Network{Name: def.Name, UUID: u}
}

func noNetwork(name string) error {
	return lverr(libvirt.ErrNoNetwork, "Network not found: no network with matching name '%s'", name)
}

func prefixes(def libvirtxml.Network) []netip.Prefix {
	var out []netip.Prefix
	for _, ip := range def.IPs {
		addr, err := netip.ParseAddr(ip.Address)
		if err != nil {
			continue
		}
		bits := int(ip.Prefix)
		if mask, err := netip.ParseAddr(ip.Netmask); err == nil {
			bits = 0
			for _, b := range mask.AsSlice() {
				for ; b&0x80 != 0; b <<= 1 {
					bits++
				}
			}
		} else if bits == 0 {
			bits = 24
		}
		if p, err := addr.Prefix(bits); err == nil {
			out = append(out, p)
		}
	}
	return out
}
