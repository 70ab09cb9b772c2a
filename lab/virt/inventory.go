package virt

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/digitalocean/go-libvirt"
)

// Kinds of LabObject.
const (
	KindDomain  = "domain"
	KindNetwork = "network"
	KindPool    = "pool"
	KindVolume  = "volume"
)

// LabObject is a libvirt object that carries a lab's ownership marker: a
// domain or network with the lab's <metadata>, a storage pool whose UUID is
// PoolUUID, or a volume with the lab's name prefix inside such a pool.
type LabObject struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Lab    string `json:"lab"`
	UUID   string `json:"uuid,omitempty"`
	Node   string `json:"node,omitempty"` // a domain's node
	Pool   string `json:"pool,omitempty"` // a volume's pool
	Path   string `json:"path,omitempty"` // a pool's target directory
	Active bool   `json:"active"`
}

// LabObjects lists the objects on the host that carry lab's marker, every
// lab's when lab is "". Volumes are listed in active pools; with start, the
// labs' stopped pools are started first (without building a directory) so
// their volumes show too.
func (p *Provider) LabObjects(ctx context.Context, lab string, start bool) ([]LabObject, error) {
	var out []LabObject
	mine := func(l string) bool { return l != "" && (lab == "" || l == lab) }

	doms, _, err := p.c.ConnectListAllDomains(1, 0)
	if err != nil {
		return nil, fmt.Errorf("listing domains: %w", err)
	}
	for _, dom := range doms {
		def, err := p.domainDef(dom)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m, ok := domainMarker(def)
		if !ok || !mine(m.Lab) {
			continue
		}
		state, _, err := p.c.DomainGetState(dom, 0)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading state of domain %q: %w", def.Name, err)
		}
		out = append(out, LabObject{Kind: KindDomain, Name: def.Name, Lab: m.Lab, UUID: def.UUID, Node: m.Node,
			Active: libvirt.DomainState(state) != libvirt.DomainShutoff})
	}

	nets, err := p.Networks(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range nets {
		if mine(n.Lab) {
			out = append(out, LabObject{Kind: KindNetwork, Name: n.Name, Lab: n.Lab, UUID: n.UUID, Active: n.Active})
		}
	}

	pools, err := p.Pools(ctx)
	if err != nil {
		return nil, err
	}
	for _, pl := range pools {
		if !mine(pl.Lab) {
			continue
		}
		if !pl.Active && start {
			// A pool that does not start (its directory is gone) has no
			// volumes to list; it is still listed, so it can be undefined.
			if _, _, err := p.startPool(ctx, pl.Name, false); err == nil {
				pl.Active = true
			}
		}
		out = append(out, LabObject{Kind: KindPool, Name: pl.Name, Lab: pl.Lab, UUID: pl.UUID, Path: pl.Path, Active: pl.Active})
		if !pl.Active {
			continue
		}
		vols, err := p.poolVolumes(pl.Name)
		if err != nil {
			return nil, err
		}
		for _, v := range vols {
			if Owned(v, pl.Lab) {
				out = append(out, LabObject{Kind: KindVolume, Name: v, Lab: pl.Lab, Pool: pl.Name, Active: true})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b LabObject) int { return strings.Compare(a.Lab, b.Lab) })
	return out, nil
}

// poolVolumes lists the names of the volumes in an active pool.
func (p *Provider) poolVolumes(pool string) ([]string, error) {
	sp, err := p.c.StoragePoolLookupByName(pool)
	if err != nil {
		return nil, fmt.Errorf("looking up storage pool %q: %w", pool, err)
	}
	vols, _, err := p.c.StoragePoolListAllVolumes(sp, 1, 0)
	if err != nil {
		return nil, fmt.Errorf("listing the volumes of storage pool %q: %w", pool, err)
	}
	names := make([]string, 0, len(vols))
	for _, v := range vols {
		names = append(names, v.Name)
	}
	slices.Sort(names)
	return names, nil
}
