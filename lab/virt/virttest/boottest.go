package virttest

import (
	"io"
	"slices"

	"github.com/digitalocean/go-libvirt"
)

// SetConsole sets what the guests of a domain type ("kvm" or "qemu") print
// on their serial console once they run: a boot log for guests that boot,
// nothing for guests that hang, as KVM guests do on the machines lab is
// built on.
func (f *Fake) SetConsole(domainType string, out []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.console[domainType] = slices.Clone(out)
}

// DomainCreateXML implements the libvirt call: a transient domain, started
// (paused with DomainStartPaused). It needs what DomainCreate needs.
// Autodestroy is accepted; the fake has no connection to close.
func (f *Fake) DomainCreateXML(xml string, flags libvirt.DomainCreateFlags) (libvirt.Domain, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DomainCreateXML", true); err != nil {
		return libvirt.Domain{}, err
	}
	def, err := parseDomain(xml)
	if err != nil {
		return libvirt.Domain{}, err
	}
	if def.Type == "kvm" && !f.host.KVM {
		return libvirt.Domain{}, lverr(libvirt.ErrConfigUnsupported, "unsupported configuration: domain type kvm is not supported on this host")
	}
	if old, ok := f.domains[def.Name]; ok {
		return libvirt.Domain{}, lverr(libvirt.ErrOperationFailed, "operation failed: domain '%s' already exists with uuid %s", def.Name, old.def.UUID)
	}
	if err := f.canStart(def); err != nil {
		return libvirt.Domain{}, err
	}
	if def.UUID == "" {
		_, def.UUID = uuidFor("domain", def.Name)
	}
	d := newDomain(def, false)
	f.domains[def.Name] = d
	if flags&libvirt.DomainStartPaused != 0 {
		d.set(libvirt.DomainPaused)
	} else {
		d.set(libvirt.DomainRunning)
	}
	return domHandle(def), nil
}

// DomainResume implements the libvirt call.
func (f *Fake) DomainResume(h libvirt.Domain) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DomainResume", true); err != nil {
		return err
	}
	d, err := f.domain(h)
	if err != nil {
		return err
	}
	switch d.state {
	case libvirt.DomainShutoff:
		return lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: domain is not running")
	case libvirt.DomainRunning:
		return lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: domain is already running")
	}
	d.set(libvirt.DomainRunning)
	return nil
}

// DomainOpenConsole implements the libvirt call as go-libvirt does: it
// streams the serial console into w until the domain stops. A domain
// needs a serial port or console for it, as with the daemon. The guest
// prints what SetConsole gave its domain type when it first runs, so a
// console opened while the domain is paused misses nothing.
func (f *Fake) DomainOpenConsole(h libvirt.Domain, _ libvirt.OptString, w io.Writer, _ uint32) error {
	f.mu.Lock()
	if err := f.enter("DomainOpenConsole", false); err != nil {
		f.mu.Unlock()
		return err
	}
	d, err := f.domain(h)
	switch {
	case err != nil:
	case d.state == libvirt.DomainShutoff:
		err = lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: domain is not running")
	case d.def.Devices == nil || len(d.def.Devices.Serials) == 0 && len(d.def.Devices.Consoles) == 0:
		err = lverr(libvirt.ErrInternalError, "internal error: cannot find character device <null>")
	}
	if err != nil {
		f.mu.Unlock()
		return err
	}
	out := f.console[d.def.Type]
	printed := false
	for {
		state, changed := d.state, d.changed
		if state == libvirt.DomainShutoff {
			f.mu.Unlock()
			return nil
		}
		if state == libvirt.DomainRunning && !printed {
			printed = true
			f.mu.Unlock()
			if _, err := w.Write(out); err != nil {
				return err
			}
			f.mu.Lock()
			continue
		}
		f.mu.Unlock()
		<-changed
		f.mu.Lock()
	}
}
