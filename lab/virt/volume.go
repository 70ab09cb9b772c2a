package virt

import (
	"context"
	"fmt"
	"io"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// CreateVolume creates a volume in the lab's pool (one whose UUID is the
// lab's marker), starting the pool if it is down, and returns the volume's
// path. A volume of that name that exists already is refused (ErrNotOwned)
// unless s.Adopt says the lab's state records it as the lab's (a leftover
// of an interrupted run); an adopted one must have the same format,
// capacity and backing file, otherwise it is refused with ErrConflict.
func (p *Provider) CreateVolume(ctx context.Context, pool string, s VolumeSpec) (path string, err error) {
	doc, err := VolumeXML(s)
	if err != nil {
		return "", err
	}
	sp, err := p.ownedPool(ctx, pool, s.Lab, true)
	if err != nil {
		return "", fmt.Errorf("creating volume %q: %w", s.Name, err)
	}
	if vol, err := p.c.StorageVolLookupByName(sp, s.Name); err == nil {
		if !s.Adopt {
			return "", fmt.Errorf("creating volume %q in pool %q: a file of that name exists and lab %q did not make it: "+
				"move it out of the pool's directory, or run 'lab destroy' if it is a leftover of this lab: %w", s.Name, pool, s.Lab, ErrNotOwned)
		}
		return p.existingVolume(pool, vol, s)
	} else if !isNotFound(err) {
		return "", fmt.Errorf("looking up volume %q in pool %q: %w", s.Name, pool, err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("creating volume %q in pool %q: %w", s.Name, pool, err)
	}
	vol, err := p.c.StorageVolCreateXML(sp, doc, 0)
	if err != nil {
		return "", fmt.Errorf("creating volume %q in pool %q: %w", s.Name, pool, err)
	}
	path, err = p.c.StorageVolGetPath(vol)
	if err != nil {
		return "", fmt.Errorf("reading path of volume %q in pool %q: %w", s.Name, pool, err)
	}
	return path, nil
}

// existingVolume returns the path of vol when it matches s.
func (p *Provider) existingVolume(pool string, vol libvirt.StorageVol, s VolumeSpec) (string, error) {
	doc, err := p.c.StorageVolGetXMLDesc(vol, 0)
	if err != nil {
		return "", fmt.Errorf("reading volume %q in pool %q: %w", s.Name, pool, err)
	}
	var def libvirtxml.StorageVolume
	if err := def.Unmarshal(doc); err != nil {
		return "", fmt.Errorf("parsing volume %q in pool %q: %w", s.Name, pool, err)
	}
	if why := volumeMismatch(def, s); why != "" {
		return "", fmt.Errorf("creating volume %q in pool %q: it exists with %s; destroy the lab first: %w", s.Name, pool, why, ErrConflict)
	}
	if def.Target != nil && def.Target.Path != "" {
		return def.Target.Path, nil
	}
	path, err := p.c.StorageVolGetPath(vol)
	if err != nil {
		return "", fmt.Errorf("reading path of volume %q in pool %q: %w", s.Name, pool, err)
	}
	return path, nil
}

// volumeMismatch says how an existing volume differs from s, or "".
func volumeMismatch(def libvirtxml.StorageVolume, s VolumeSpec) string {
	format := ""
	if def.Target != nil && def.Target.Format != nil {
		format = def.Target.Format.Type
	}
	// libvirt probes an uploaded ISO image in a raw volume as "iso".
	if format != s.Format && !(s.Format == FormatRaw && format == "iso") {
		return fmt.Sprintf("format %q", format)
	}
	if s.CapacityBytes > 0 && (def.Capacity == nil || capacityBytes(*def.Capacity) != s.CapacityBytes) {
		return fmt.Sprintf("capacity %v", def.Capacity)
	}
	backing := ""
	if def.BackingStore != nil {
		backing = def.BackingStore.Path
	}
	if backing != s.BackingPath {
		return fmt.Sprintf("backing file %q", backing)
	}
	return ""
}

func capacityBytes(sz libvirtxml.StorageVolumeSize) uint64 {
	mult := map[string]uint64{"": 1, "b": 1, "bytes": 1, "KiB": 1 << 10, "k": 1 << 10, "MiB": 1 << 20, "M": 1 << 20, "GiB": 1 << 30, "G": 1 << 30}
	if m, ok := mult[sz.Unit]; ok {
		return sz.Value * m
	}
	return sz.Value
}

// UploadVolume writes size bytes from r into the lab's volume (the seed
// ISO), from offset 0. Wrap r to report progress.
func (p *Provider) UploadVolume(ctx context.Context, pool, name, lab string, r io.Reader, size int64) error {
	if !Owned(name, lab) {
		return fmt.Errorf("refusing to upload to volume %q: its name does not start with lab %q: %w", name, lab, ErrNotOwned)
	}
	if size <= 0 {
		return fmt.Errorf("uploading to volume %q: size %d", name, size)
	}
	sp, err := p.ownedPool(ctx, pool, lab, true)
	if err != nil {
		return fmt.Errorf("uploading to volume %q: %w", name, err)
	}
	vol, err := p.c.StorageVolLookupByName(sp, name)
	if err != nil {
		return fmt.Errorf("looking up volume %q in pool %q: %w", name, pool, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("uploading to volume %q in pool %q: %w", name, pool, err)
	}
	if err := p.c.StorageVolUpload(vol, io.LimitReader(r, size), 0, uint64(size), 0); err != nil {
		return fmt.Errorf("uploading to volume %q in pool %q: %w", name, pool, err)
	}
	return nil
}

// DeleteVolume deletes the lab's volume (the file). It does nothing when the
// pool or the volume is absent and refuses (ErrNotOwned) a volume whose name
// does not carry the lab's prefix or whose pool is not the lab's.
func (p *Provider) DeleteVolume(ctx context.Context, pool, name, lab string) error {
	if !Owned(name, lab) {
		return fmt.Errorf("refusing to delete volume %q: its name does not start with lab %q: %w", name, lab, ErrNotOwned)
	}
	sp, err := p.ownedPool(ctx, pool, lab, false)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting volume %q: %w", name, err)
	}
	vol, err := p.c.StorageVolLookupByName(sp, name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up volume %q in pool %q: %w", name, pool, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting volume %q in pool %q: %w", name, pool, err)
	}
	if err := p.c.StorageVolDelete(vol, 0); err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting volume %q in pool %q: %w", name, pool, err)
	}
	return nil
}

// HasVolume reports whether the lab's pool holds a volume (a file) of that
// name, so create can refuse one it did not make before recording it.
func (p *Provider) HasVolume(ctx context.Context, pool, name, lab string) (bool, error) {
	sp, err := p.ownedPool(ctx, pool, lab, true)
	if err != nil {
		return false, fmt.Errorf("looking up volume %q: %w", name, err)
	}
	_, err = p.c.StorageVolLookupByName(sp, name)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up volume %q in pool %q: %w", name, pool, err)
	}
	return true, nil
}
