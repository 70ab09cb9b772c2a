package virt

import (
	"context"
	"fmt"

	"github.com/digitalocean/go-libvirt"
)

// IOTune caps a disk's I/O on the host side (libvirt's <iotune>). Zero
// fields remove the cap. QEMU throttles reads and writes this way but not
// flushes, which is why the slow-disk profile also delays I/O in the guest.
type IOTune struct {
	TotalIOPS  uint64 // operations per second, reads and writes together
	TotalBytes uint64 // bytes per second, reads and writes together
}

// SetBlockIOTune applies t live to disk (a target such as "vdb") of the
// lab's running domain. It refuses a domain that is not the lab's.
func (p *Provider) SetBlockIOTune(ctx context.Context, name, lab, disk string, t IOTune) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tuning disk %s of domain %q: %w", disk, name, err)
	}
	dom, err := p.c.DomainLookupByName(name)
	if err != nil {
		return fmt.Errorf("looking up domain %q: %w", name, err)
	}
	def, err := p.domainDef(dom)
	if err != nil {
		return err
	}
	if m, ok := domainMarker(def); !ok || m.Lab != lab || lab == "" {
		return fmt.Errorf("refusing to tune domain %q for lab %q: %s: %w", name, lab, ownerText(m, ok), ErrNotOwned)
	}
	params := []libvirt.TypedParam{
		{Field: libvirt.DomainBlockIotuneTotalIopsSec, Value: *libvirt.NewTypedParamValueUllong(t.TotalIOPS)},
		{Field: libvirt.DomainBlockIotuneTotalBytesSec, Value: *libvirt.NewTypedParamValueUllong(t.TotalBytes)},
	}
	if err := p.c.DomainSetBlockIOTune(dom, disk, params, uint32(libvirt.DomainAffectLive)); err != nil {
		return fmt.Errorf("tuning disk %s of domain %q: %w", disk, name, err)
	}
	return nil
}
