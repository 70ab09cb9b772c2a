package virt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// PoolInfo describes a libvirt storage pool, ours or not.
type PoolInfo struct {
	Name   string
	Type   string // "dir" for the lab's pools
	Path   string // target directory
	Active bool
}

// Pools lists every storage pool.
func (p *Provider) Pools(ctx context.Context) ([]PoolInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing storage pools: %w", err)
	}
	pools, _, err := p.c.ConnectListAllStoragePools(1, 0)
	if err != nil {
		return nil, fmt.Errorf("listing storage pools: %w", err)
	}
	var out []PoolInfo
	for _, sp := range pools {
		info, err := p.poolInfo(sp)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b PoolInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (p *Provider) poolInfo(sp libvirt.StoragePool) (PoolInfo, error) {
	doc, err := p.c.StoragePoolGetXMLDesc(sp, 0)
	if err != nil {
		return PoolInfo{}, fmt.Errorf("reading storage pool %q: %w", sp.Name, err)
	}
	var def libvirtxml.StoragePool
	if err := def.Unmarshal(doc); err != nil {
		return PoolInfo{}, fmt.Errorf("parsing storage pool %q: %w", sp.Name, err)
	}
	active, err := p.c.StoragePoolIsActive(sp)
	if err != nil {
		return PoolInfo{}, fmt.Errorf("reading state of storage pool %q: %w", sp.Name, err)
	}
	info := PoolInfo{Name: def.Name, Type: def.Type, Active: active == 1}
	if def.Target != nil {
		info.Path = def.Target.Path
	}
	return info, nil
}

// EnsurePool defines and starts the lab's directory pool, creating the
// directory (mode 0711, so qemu can reach the volumes) when it is missing,
// or starts the pool when it exists already. It refuses
// (ErrConflict) when the pool exists with another directory or another pool
// already uses the directory. created reports whether this call defined it.
func (p *Provider) EnsurePool(ctx context.Context, s PoolSpec) (created bool, err error) {
	doc, err := PoolXML(s)
	if err != nil {
		return false, err
	}
	pools, err := p.Pools(ctx)
	if err != nil {
		return false, fmt.Errorf("creating storage pool %q: %w", s.Name, err)
	}
	path := filepath.Clean(s.Path)
	for _, have := range pools {
		switch {
		case have.Name == s.Name && (have.Type != "dir" || filepath.Clean(have.Path) != path):
			return false, fmt.Errorf("creating storage pool %q: it exists as a %s pool on %q, not on %q; destroy the lab first: %w",
				s.Name, have.Type, have.Path, s.Path, ErrConflict)
		case have.Name == s.Name:
			if have.Active {
				return false, nil
			}
			_, err := p.startPool(ctx, s.Name, true)
			return false, err
		case have.Path != "" && filepath.Clean(have.Path) == path:
			return false, fmt.Errorf("creating storage pool %q: directory %q is already the pool %q: %w", s.Name, s.Path, have.Name, ErrConflict)
		}
	}

	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("creating storage pool %q: %w", s.Name, err)
	}
	sp, err := p.c.StoragePoolDefineXML(doc, 0)
	if err != nil {
		return false, fmt.Errorf("defining storage pool %q: %w", s.Name, err)
	}
	if _, err := p.startPool(ctx, s.Name, true); err != nil {
		if uerr := p.c.StoragePoolUndefine(sp); uerr != nil {
			return true, errors.Join(err, fmt.Errorf("undefining storage pool %q after the failed start: %w", s.Name, uerr))
		}
		return false, err
	}
	return true, nil
}

// startPool starts a defined pool unless it is running, and rescans its
// directory so files left by an earlier run show as volumes. With build
// set, a missing directory is created by a pool build (mode 0711); an
// existing one is not built, because the build would also chmod it and it
// may be the user's own.
func (p *Provider) startPool(ctx context.Context, name string, build bool) (libvirt.StoragePool, error) {
	if err := ctx.Err(); err != nil {
		return libvirt.StoragePool{}, fmt.Errorf("starting storage pool %q: %w", name, err)
	}
	sp, err := p.c.StoragePoolLookupByName(name)
	if err != nil {
		return sp, fmt.Errorf("looking up storage pool %q: %w", name, err)
	}
	active, err := p.c.StoragePoolIsActive(sp)
	if err != nil {
		return sp, fmt.Errorf("reading state of storage pool %q: %w", name, err)
	}
	if active != 1 {
		err := p.c.StoragePoolCreate(sp, 0)
		// A directory pool whose directory is missing fails to start with
		// a system error ("cannot open directory").
		if err != nil && build && hasCode(err, libvirt.ErrSystemError) {
			if err := p.c.StoragePoolBuild(sp, 0); err != nil {
				return sp, fmt.Errorf("building storage pool %q: %w", name, err)
			}
			err = p.c.StoragePoolCreate(sp, 0)
		}
		if err != nil {
			return sp, fmt.Errorf("starting storage pool %q: %w", name, err)
		}
	}
	if err := p.c.StoragePoolRefresh(sp, 0); err != nil {
		return sp, fmt.Errorf("refreshing storage pool %q: %w", name, err)
	}
	return sp, nil
}

// DeletePool stops and undefines the lab's pool. It leaves the directory
// and any files in it alone: the path may be the user's own disk, and the
// lab's volumes are deleted one by one with DeleteVolume first. It does
// nothing when the pool is absent and refuses (ErrNotOwned) a pool whose
// name does not carry the lab's prefix.
func (p *Provider) DeletePool(ctx context.Context, name, lab string) error {
	return p.deletePool(ctx, name, lab, false)
}

// DeletePoolAndDir is DeletePool that also has the daemon remove the pool's
// directory (which must be empty by then): the daemon's user owns it, on a
// remote host too.
func (p *Provider) DeletePoolAndDir(ctx context.Context, name, lab string) error {
	return p.deletePool(ctx, name, lab, true)
}

func (p *Provider) deletePool(ctx context.Context, name, lab string, dir bool) error {
	if !Owned(name, lab) {
		return fmt.Errorf("refusing to delete storage pool %q: its name does not start with lab %q: %w", name, lab, ErrNotOwned)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting storage pool %q: %w", name, err)
	}
	sp, err := p.c.StoragePoolLookupByName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up storage pool %q: %w", name, err)
	}
	active, err := p.c.StoragePoolIsActive(sp)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading state of storage pool %q: %w", name, err)
	}
	if active == 1 {
		if err := p.c.StoragePoolDestroy(sp); err != nil && !isNotFound(err) {
			return fmt.Errorf("stopping storage pool %q: %w", name, err)
		}
	}
	if dir {
		// A directory already gone (an earlier destroy removed it and
		// then failed) is what was asked for.
		err := p.c.StoragePoolDelete(sp, libvirt.StoragePoolDeleteNormal)
		if err != nil && !isNotFound(err) && !strings.Contains(err.Error(), "No such file or directory") {
			return fmt.Errorf("removing the directory of storage pool %q: %w", name, err)
		}
	}
	if err := p.c.StoragePoolUndefine(sp); err != nil && !isNotFound(err) {
		return fmt.Errorf("undefining storage pool %q: %w", name, err)
	}
	return nil
}
