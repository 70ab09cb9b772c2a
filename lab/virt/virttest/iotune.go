package virttest

import (
	"github.com/digitalocean/go-libvirt"
)

// DomainSetBlockIOTune implements the libvirt call: it records the caps of a
// disk of a running domain, as QEMU applies them live.
func (f *Fake) DomainSetBlockIOTune(h libvirt.Domain, disk string, params []libvirt.TypedParam, _ uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DomainSetBlockIOTune", true); err != nil {
		return err
	}
	d, err := f.domain(h)
	if err != nil {
		return err
	}
	if d.state != libvirt.DomainRunning {
		return lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: domain is not running")
	}
	found := false
	for _, dd := range d.def.Devices.Disks {
		if dd.Target != nil && dd.Target.Dev == disk {
			found = true
		}
	}
	if !found {
		return lverr(libvirt.ErrInvalidArg, "invalid argument: disk '%s' was not found in the domain config", disk)
	}
	if d.iotune == nil {
		d.iotune = map[string]map[string]uint64{}
	}
	caps := map[string]uint64{}
	for _, p := range params {
		v, _ := p.Value.I.(uint64)
		caps[p.Field] = v
	}
	d.iotune[disk] = caps
	return nil
}

// BlockIOTune returns the caps last set on a domain's disk (libvirt's field
// names, such as "total_iops_sec"), nil when none were set.
func (f *Fake) BlockIOTune(domain, disk string) map[string]uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.domains[domain]
	if !ok || d.iotune == nil {
		return nil
	}
	return d.iotune[disk]
}
