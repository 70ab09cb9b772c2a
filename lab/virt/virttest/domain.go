package virttest

import (
	"path/filepath"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// AddDomain defines a domain from XML as someone else would have, running
// when running is set. It panics on XML the fake cannot take.
func (f *Fake) AddDomain(xml string, running bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, err := f.defineDomain(xml)
	if err != nil {
		panic("virttest: AddDomain: " + err.Error())
	}
	if running {
		f.domains[h.Name].set(libvirt.DomainRunning)
	}
}

// SetDomainState changes a domain's state as its guest or the host would:
// libvirt.DomainShutoff for a guest that powered off, DomainCrashed,
// DomainPaused. A transient domain that shuts off disappears.
func (f *Fake) SetDomainState(name string, state libvirt.DomainState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.domains[name]
	if !ok {
		panic("virttest: SetDomainState: no domain " + name)
	}
	d.set(state)
	if state == libvirt.DomainShutoff && !d.persistent {
		delete(f.domains, name)
	}
}

// ConnectListAllDomains implements the libvirt call.
func (f *Fake) ConnectListAllDomains(_ int32, flags libvirt.ConnectListAllDomainsFlags) ([]libvirt.Domain, uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ConnectListAllDomains", false); err != nil {
		return nil, 0, err
	}
	var out []libvirt.Domain
	for _, name := range sortedKeys(f.domains) {
		d := f.domains[name]
		active := d.state != libvirt.DomainShutoff
		if flags&libvirt.ConnectListDomainsActive != 0 && !active ||
			flags&libvirt.ConnectListDomainsInactive != 0 && active {
			continue
		}
		out = append(out, domHandle(d.def))
	}
	return out, uint32(len(out)), nil
}

// DomainLookupByName implements the libvirt call.
func (f *Fake) DomainLookupByName(name string) (libvirt.Domain, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DomainLookupByName", false); err != nil {
		return libvirt.Domain{}, err
	}
	d, ok := f.domains[name]
	if !ok {
		return libvirt.Domain{}, noDomain(name)
	}
	return domHandle(d.def), nil
}

// DomainDefineXMLFlags implements the libvirt call. Redefining a name needs
// its UUID, as with the real daemon.
func (f *Fake) DomainDefineXMLFlags(xml string, _ libvirt.DomainDefineFlags) (libvirt.Domain, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DomainDefineXMLFlags", true); err != nil {
		return libvirt.Domain{}, err
	}
	return f.defineDomain(xml)
}

// parseDomain reads a domain's XML as libvirtd does, refusing what it
// refuses: no name, another type than kvm or qemu, no memory.
func parseDomain(xml string) (libvirtxml.Domain, error) {
	var def libvirtxml.Domain
	if err := def.Unmarshal(xml); err != nil {
		return def, lverr(libvirt.ErrXMLDetail, "XML error: %v", err)
	}
	switch {
	case def.Name == "":
		return def, lverr(libvirt.ErrXMLError, "XML error: missing domain name information")
	case def.Type != "kvm" && def.Type != "qemu":
		return def, lverr(libvirt.ErrXMLError, "XML error: invalid domain type %s", def.Type)
	case def.Memory == nil || def.Memory.Value == 0:
		return def, lverr(libvirt.ErrXMLError, "XML error: missing memory element")
	}
	return def, nil
}

func (f *Fake) defineDomain(xml string) (libvirt.Domain, error) {
	def, err := parseDomain(xml)
	if err != nil {
		return libvirt.Domain{}, err
	}
	old, exists := f.domains[def.Name]
	if def.UUID == "" {
		if exists {
			return libvirt.Domain{}, lverr(libvirt.ErrOperationFailed, "operation failed: domain '%s' already exists with uuid %s", def.Name, old.def.UUID)
		}
		_, def.UUID = uuidFor("domain", def.Name)
	}
	if exists && old.def.UUID != def.UUID {
		return libvirt.Domain{}, lverr(libvirt.ErrOperationFailed, "operation failed: domain '%s' already exists with uuid %s", def.Name, old.def.UUID)
	}
	for _, other := range f.domains {
		if other.def.Name != def.Name && other.def.UUID == def.UUID {
			return libvirt.Domain{}, lverr(libvirt.ErrOperationFailed, "operation failed: domain '%s' is already defined with uuid %s", other.def.Name, def.UUID)
		}
	}
	if exists {
		old.def, old.persistent = def, true
	} else {
		f.domains[def.Name] = newDomain(def, true)
	}
	return domHandle(def), nil
}

// DomainCreate implements the libvirt call. Like qemu under libvirt, it
// needs the networks active and the kernel, initrd and disk files present.
func (f *Fake) DomainCreate(h libvirt.Domain) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DomainCreate", true); err != nil {
		return err
	}
	d, err := f.domain(h)
	if err != nil {
		return err
	}
	if d.state != libvirt.DomainShutoff {
		return lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: domain is already running")
	}
	if err := f.canStart(d.def); err != nil {
		return err
	}
	d.set(libvirt.DomainRunning)
	return nil
}

// canStart checks, in the daemon's order, what qemu needs: the networks
// (allocated while preparing the domain), then the files (checked while
// preparing the host).
func (f *Fake) canStart(def libvirtxml.Domain) error {
	if def.Devices != nil {
		for _, iface := range def.Devices.Interfaces {
			if iface.Source == nil || iface.Source.Network == nil {
				continue
			}
			name := iface.Source.Network.Network
			n, ok := f.networks[name]
			if !ok {
				return noNetwork(name)
			}
			if !n.active {
				return lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: network '%s' is not active", name)
			}
		}
	}
	var paths []string
	if def.OS != nil {
		paths = append(paths, def.OS.Kernel, def.OS.Initrd)
	}
	if def.Devices != nil {
		for _, disk := range def.Devices.Disks {
			if disk.Source != nil && disk.Source.File != nil {
				paths = append(paths, disk.Source.File.File)
			}
		}
	}
	for _, p := range paths {
		if p == "" {
			continue
		}
		if _, ok := f.files[filepath.Clean(p)]; !ok {
			return lverr(libvirt.ErrInternalError, "Cannot access storage file '%s': No such file or directory", p)
		}
	}
	return nil
}

// DomainDestroy implements the libvirt call: a hard power-off. A transient
// domain disappears.
func (f *Fake) DomainDestroy(h libvirt.Domain) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DomainDestroy", true); err != nil {
		return err
	}
	d, err := f.domain(h)
	if err != nil {
		return err
	}
	if d.state == libvirt.DomainShutoff {
		return lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: domain is not running")
	}
	d.set(libvirt.DomainShutoff)
	if !d.persistent {
		delete(f.domains, d.def.Name)
	}
	return nil
}

// DomainUndefineFlags implements the libvirt call. A running domain stays
// up as a transient one until it stops.
func (f *Fake) DomainUndefineFlags(h libvirt.Domain, _ libvirt.DomainUndefineFlagsValues) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DomainUndefineFlags", true); err != nil {
		return err
	}
	d, err := f.domain(h)
	if err != nil {
		return err
	}
	if !d.persistent {
		return lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: cannot undefine transient domain")
	}
	if d.state != libvirt.DomainShutoff {
		d.persistent = false
		return nil
	}
	delete(f.domains, d.def.Name)
	return nil
}

// DomainGetState implements the libvirt call.
func (f *Fake) DomainGetState(h libvirt.Domain, _ uint32) (int32, int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DomainGetState", false); err != nil {
		return 0, 0, err
	}
	d, err := f.domain(h)
	if err != nil {
		return 0, 0, err
	}
	return int32(d.state), 1, nil
}

// DomainGetXMLDesc implements the libvirt call.
func (f *Fake) DomainGetXMLDesc(h libvirt.Domain, _ libvirt.DomainXMLFlags) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DomainGetXMLDesc", false); err != nil {
		return "", err
	}
	d, err := f.domain(h)
	if err != nil {
		return "", err
	}
	return d.def.Marshal()
}

func (f *Fake) domain(h libvirt.Domain) (*domain, error) {
	d, ok := f.domains[h.Name]
	if !ok || domHandle(d.def).UUID != h.UUID {
		return nil, noDomain(h.Name)
	}
	return d, nil
}

func domHandle(def libvirtxml.Domain) libvirt.Domain {
	u, _ := parseUUID(def.UUID)
	return libvirt.Domain{Name: def.Name, UUID: u, ID: -1}
}

func noDomain(name string) error {
	return lverr(libvirt.ErrNoDomain, "Domain not found: no domain with matching name '%s'", name)
}
