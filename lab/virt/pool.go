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
	UUID   string
	// Lab is the lab whose marker the pool's UUID is (PoolUUID), or "" for
	// a pool the lab did not define.
	Lab string
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
	info := PoolInfo{Name: def.Name, Type: def.Type, Active: active == 1, UUID: def.UUID, Lab: poolOwner(def.Name, def.UUID)}
	if def.Target != nil {
		info.Path = def.Target.Path
	}
	return info, nil
}

// PoolResult says what EnsurePool did.
type PoolResult struct {
	// Created: the pool was defined by this call.
	Created bool
	// BuiltDir: the pool's directory was missing and libvirt made it, so
	// it is the lab's to remove with the pool.
	BuiltDir bool
}

// EnsurePool defines and starts the lab's directory pool, creating the
// directory (mode 0711, so qemu can reach the volumes) when it is missing,
// or starts the pool when it exists already and is the lab's: its UUID is
// the lab's marker (PoolUUID). It refuses a pool of that name that the lab
// did not define (ErrNotOwned), one with another directory, and a directory
// another pool already uses (ErrConflict). created reports whether this
// call defined it.
func (p *Provider) EnsurePool(ctx context.Context, s PoolSpec) (created bool, err error) {
	r, err := p.EnsurePoolResult(ctx, s)
	return r.Created, err
}

// EnsurePoolResult is EnsurePool that also says whether libvirt made the
// pool's directory.
func (p *Provider) EnsurePoolResult(ctx context.Context, s PoolSpec) (PoolResult, error) {
	doc, err := PoolXML(s)
	if err != nil {
		return PoolResult{}, err
	}
	pools, err := p.Pools(ctx)
	if err != nil {
		return PoolResult{}, fmt.Errorf("creating storage pool %q: %w", s.Name, err)
	}
	path := filepath.Clean(s.Path)
	for _, have := range pools {
		switch {
		case have.Name == s.Name && have.Lab != s.Lab:
			return PoolResult{}, fmt.Errorf("creating storage pool %q: a pool of that name exists on %q and lab %q did not define it (UUID %s); "+
				"remove it with 'virsh pool-destroy %s; virsh pool-undefine %s' if it is not needed, or choose another --lab: %w",
				s.Name, have.Path, s.Lab, have.UUID, s.Name, s.Name, ErrNotOwned)
		case have.Name == s.Name && (have.Type != "dir" || filepath.Clean(have.Path) != path):
			return PoolResult{}, fmt.Errorf("creating storage pool %q: it exists as a %s pool on %q, not on %q; destroy the lab first: %w",
				s.Name, have.Type, have.Path, s.Path, ErrConflict)
		case have.Name == s.Name:
			if have.Active {
				return PoolResult{}, nil
			}
			_, built, err := p.startPool(ctx, s.Name, true)
			return PoolResult{BuiltDir: built}, err
		case have.Path != "" && filepath.Clean(have.Path) == path:
			return PoolResult{}, fmt.Errorf("creating storage pool %q: directory %q is already the pool %q: %w", s.Name, s.Path, have.Name, ErrConflict)
		}
	}

	if err := ctx.Err(); err != nil {
		return PoolResult{}, fmt.Errorf("creating storage pool %q: %w", s.Name, err)
	}
	sp, err := p.c.StoragePoolDefineXML(doc, 0)
	if err != nil {
		return PoolResult{}, fmt.Errorf("defining storage pool %q: %w", s.Name, err)
	}
	_, built, err := p.startPool(ctx, s.Name, true)
	if err != nil {
		if uerr := p.c.StoragePoolUndefine(sp); uerr != nil {
			return PoolResult{Created: true, BuiltDir: built}, errors.Join(err, fmt.Errorf("undefining storage pool %q after the failed start: %w", s.Name, uerr))
		}
		return PoolResult{}, err
	}
	return PoolResult{Created: true, BuiltDir: built}, nil
}

// startPool starts a defined pool unless it is running, and rescans its
// directory so files left by an earlier run show as volumes. With build
// set, a missing directory is created by a pool build (mode 0711); an
// existing one is not built, because the build would also chmod it and it
// may be the user's own.
func (p *Provider) startPool(ctx context.Context, name string, build bool) (sp libvirt.StoragePool, built bool, err error) {
	if err := ctx.Err(); err != nil {
		return libvirt.StoragePool{}, false, fmt.Errorf("starting storage pool %q: %w", name, err)
	}
	sp, err = p.c.StoragePoolLookupByName(name)
	if err != nil {
		return sp, false, fmt.Errorf("looking up storage pool %q: %w", name, err)
	}
	active, err := p.c.StoragePoolIsActive(sp)
	if err != nil {
		return sp, false, fmt.Errorf("reading state of storage pool %q: %w", name, err)
	}
	if active != 1 {
		err := p.c.StoragePoolCreate(sp, 0)
		// A directory pool whose directory is missing fails to start with
		// a system error ("cannot open directory").
		if err != nil && build && hasCode(err, libvirt.ErrSystemError) {
			if err := p.c.StoragePoolBuild(sp, 0); err != nil {
				return sp, false, fmt.Errorf("building storage pool %q: %w", name, err)
			}
			built = true
			err = p.c.StoragePoolCreate(sp, 0)
		}
		if err != nil {
			return sp, built, fmt.Errorf("starting storage pool %q: %w", name, err)
		}
	}
	if err := p.c.StoragePoolRefresh(sp, 0); err != nil {
		return sp, built, fmt.Errorf("refreshing storage pool %q: %w", name, err)
	}
	return sp, built, nil
}

// ownedPool starts the lab's pool (see startPool) after checking that its
// UUID is lab's marker.
func (p *Provider) ownedPool(ctx context.Context, name, lab string, build bool) (libvirt.StoragePool, error) {
	sp, err := p.c.StoragePoolLookupByName(name)
	if err != nil {
		return sp, fmt.Errorf("looking up storage pool %q: %w", name, err)
	}
	info, err := p.poolInfo(sp)
	if err != nil {
		return sp, err
	}
	if info.Lab != lab || lab == "" {
		return sp, fmt.Errorf("storage pool %q on %q was not defined by lab %q (UUID %s): %w", name, info.Path, lab, info.UUID, ErrNotOwned)
	}
	sp, _, err = p.startPool(ctx, name, build)
	return sp, err
}

// DeletePool stops and undefines the lab's pool. It leaves the directory
// and any files in it alone: the path may be the user's own disk, and the
// lab's volumes are deleted one by one with DeleteVolume first. It does
// nothing when the pool is absent and refuses (ErrNotOwned) a pool whose
// UUID is not the lab's marker (PoolUUID), whatever its name.
func (p *Provider) DeletePool(ctx context.Context, name, lab string) error {
	return p.deletePool(ctx, name, lab, "")
}

// DeletePoolAndDir is DeletePool that also has the daemon remove the pool's
// directory (which must be empty by then): the daemon's user owns it, on a
// remote host too. dir is the directory the lab made; the daemon removes it
// only when it is still the pool's target, otherwise the call refuses.
func (p *Provider) DeletePoolAndDir(ctx context.Context, name, lab, dir string) error {
	if dir == "" {
		return fmt.Errorf("deleting the directory of storage pool %q: no directory given", name)
	}
	return p.deletePool(ctx, name, lab, dir)
}

func (p *Provider) deletePool(ctx context.Context, name, lab, dir string) error {
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
	info, err := p.poolInfo(sp)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Lab != lab || lab == "" {
		return fmt.Errorf("refusing to delete storage pool %q on %q: lab %q did not define it (UUID %s): %w", name, info.Path, lab, info.UUID, ErrNotOwned)
	}
	if dir != "" && filepath.Clean(info.Path) != filepath.Clean(dir) {
		return fmt.Errorf("refusing to remove the directory of storage pool %q: its target is %q, not the lab's %q: %w", name, info.Path, dir, ErrNotOwned)
	}
	if info.Active {
		if err := p.c.StoragePoolDestroy(sp); err != nil && !isNotFound(err) {
			return fmt.Errorf("stopping storage pool %q: %w", name, err)
		}
	}
	if dir != "" {
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
