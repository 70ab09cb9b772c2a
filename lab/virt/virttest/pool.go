package virttest

import (
	"path/filepath"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// AddPool defines a directory pool from XML as someone else would have, with
// its directory, and starts it when active is set. It panics on XML the fake
// cannot take.
func (f *Fake) AddPool(xml string, active bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, err := f.definePool(xml)
	if err != nil {
		panic("virttest: AddPool: " + err.Error())
	}
	p := f.pools[h.Name]
	f.mkdir(poolPath(p), "0755")
	p.active = active
}

// ConnectListAllStoragePools implements the libvirt call.
func (f *Fake) ConnectListAllStoragePools(_ int32, flags libvirt.ConnectListAllStoragePoolsFlags) ([]libvirt.StoragePool, uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ConnectListAllStoragePools", false); err != nil {
		return nil, 0, err
	}
	var out []libvirt.StoragePool
	for _, name := range sortedKeys(f.pools) {
		p := f.pools[name]
		if flags&libvirt.ConnectListStoragePoolsActive != 0 && !p.active ||
			flags&libvirt.ConnectListStoragePoolsInactive != 0 && p.active {
			continue
		}
		out = append(out, poolHandle(p.def))
	}
	return out, uint32(len(out)), nil
}

// StoragePoolLookupByName implements the libvirt call.
func (f *Fake) StoragePoolLookupByName(name string) (libvirt.StoragePool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StoragePoolLookupByName", false); err != nil {
		return libvirt.StoragePool{}, err
	}
	p, ok := f.pools[name]
	if !ok {
		return libvirt.StoragePool{}, noPool(name)
	}
	return poolHandle(p.def), nil
}

// StoragePoolDefineXML implements the libvirt call. Only directory pools
// are supported.
func (f *Fake) StoragePoolDefineXML(xml string, _ uint32) (libvirt.StoragePool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StoragePoolDefineXML", true); err != nil {
		return libvirt.StoragePool{}, err
	}
	return f.definePool(xml)
}

func (f *Fake) definePool(xml string) (libvirt.StoragePool, error) {
	var def libvirtxml.StoragePool
	if err := def.Unmarshal(xml); err != nil {
		return libvirt.StoragePool{}, lverr(libvirt.ErrXMLDetail, "XML error: %v", err)
	}
	if def.Name == "" {
		return libvirt.StoragePool{}, lverr(libvirt.ErrXMLError, "XML error: missing pool source name element")
	}
	if def.Type != "dir" {
		return libvirt.StoragePool{}, lverr(libvirt.ErrNoSupport, "this function is not supported by the connection driver: fake supports dir pools only, not %q", def.Type)
	}
	if def.Target == nil || !filepath.IsAbs(def.Target.Path) {
		return libvirt.StoragePool{}, lverr(libvirt.ErrXMLError, "XML error: missing storage pool target path")
	}
	old, exists := f.pools[def.Name]
	if exists && (def.UUID == "" || def.UUID != old.def.UUID) {
		return libvirt.StoragePool{}, lverr(libvirt.ErrOperationFailed, "operation failed: pool '%s' is already defined with uuid %s", def.Name, old.def.UUID)
	}
	if old != nil && old.active {
		return libvirt.StoragePool{}, lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: storage pool '%s' is already active", def.Name)
	}
	for _, other := range f.pools {
		if other.def.Name != def.Name && poolPath(other) == filepath.Clean(def.Target.Path) {
			return libvirt.StoragePool{}, lverr(libvirt.ErrOperationFailed, "operation failed: Storage source conflict with pool: '%s'", other.def.Name)
		}
	}
	if def.UUID == "" {
		_, def.UUID = uuidFor("pool", def.Name)
	}
	f.pools[def.Name] = &pool{def: def}
	return poolHandle(def), nil
}

// StoragePoolBuild implements the libvirt call: it makes the directory and
// sets its mode.
func (f *Fake) StoragePoolBuild(h libvirt.StoragePool, _ libvirt.StoragePoolBuildFlags) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.inactivePool("StoragePoolBuild", h)
	if err != nil {
		return err
	}
	// Like the daemon, a build sets the XML's mode on the directory, made
	// now or already there.
	mode := "0755"
	if perm := p.def.Target.Permissions; perm != nil && perm.Mode != "" {
		mode = perm.Mode
	}
	f.dirs[poolPath(p)] = mode
	return nil
}

// StoragePoolCreate implements the libvirt call: the directory must exist.
func (f *Fake) StoragePoolCreate(h libvirt.StoragePool, _ libvirt.StoragePoolCreateFlags) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.inactivePool("StoragePoolCreate", h)
	if err != nil {
		return err
	}
	if _, ok := f.dirs[poolPath(p)]; !ok {
		return lverr(libvirt.ErrSystemError, "cannot open directory '%s': No such file or directory", poolPath(p))
	}
	p.active = true
	return nil
}

// StoragePoolDestroy implements the libvirt call.
func (f *Fake) StoragePoolDestroy(h libvirt.StoragePool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StoragePoolDestroy", true); err != nil {
		return err
	}
	p, err := f.activePool(h)
	if err != nil {
		return err
	}
	p.active = false
	return nil
}

// StoragePoolDelete implements the libvirt call for a dir pool: it removes
// the pool's directory, which must be empty, from an inactive pool.
func (f *Fake) StoragePoolDelete(h libvirt.StoragePool, _ libvirt.StoragePoolDeleteFlags) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.inactivePool("StoragePoolDelete", h)
	if err != nil {
		return err
	}
	dir := poolPath(p)
	for path := range f.files {
		if filepath.Dir(path) == dir {
			return lverr(libvirt.ErrSystemError, "cannot remove directory '%s': Directory not empty", dir)
		}
	}
	delete(f.dirs, dir)
	return nil
}

// StoragePoolUndefine implements the libvirt call. The directory and the
// files in it stay.
func (f *Fake) StoragePoolUndefine(h libvirt.StoragePool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StoragePoolUndefine", true); err != nil {
		return err
	}
	p, err := f.pool(h)
	if err != nil {
		return err
	}
	if p.active {
		return lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: storage pool '%s' is still active", p.def.Name)
	}
	delete(f.pools, p.def.Name)
	return nil
}

// StoragePoolGetXMLDesc implements the libvirt call.
func (f *Fake) StoragePoolGetXMLDesc(h libvirt.StoragePool, _ libvirt.StorageXMLFlags) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StoragePoolGetXMLDesc", false); err != nil {
		return "", err
	}
	p, err := f.pool(h)
	if err != nil {
		return "", err
	}
	return p.def.Marshal()
}

// StoragePoolIsActive implements the libvirt call.
func (f *Fake) StoragePoolIsActive(h libvirt.StoragePool) (int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StoragePoolIsActive", false); err != nil {
		return 0, err
	}
	p, err := f.pool(h)
	if err != nil {
		return 0, err
	}
	if p.active {
		return 1, nil
	}
	return 0, nil
}

// StoragePoolRefresh implements the libvirt call: like the daemon, it
// probes raw files and reports an ISO 9660 image as format "iso".
func (f *Fake) StoragePoolRefresh(h libvirt.StoragePool, _ uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StoragePoolRefresh", false); err != nil {
		return err
	}
	p, err := f.activePool(h)
	if err != nil {
		return err
	}
	for path, fl := range f.files {
		if filepath.Dir(path) == poolPath(p) && fl.vol.Target.Format.Type == "raw" && isISO(fl.data) {
			fl.vol.Target.Format.Type = "iso"
		}
	}
	return nil
}

func (f *Fake) pool(h libvirt.StoragePool) (*pool, error) {
	p, ok := f.pools[h.Name]
	if !ok || poolHandle(p.def).UUID != h.UUID {
		return nil, noPool(h.Name)
	}
	return p, nil
}

func (f *Fake) activePool(h libvirt.StoragePool) (*pool, error) {
	p, err := f.pool(h)
	if err != nil {
		return nil, err
	}
	if !p.active {
		return nil, lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: storage pool '%s' is not active", p.def.Name)
	}
	return p, nil
}

func poolHandle(def libvirtxml.StoragePool) libvirt.StoragePool {
	u, _ := parseUUID(def.UUID)
	return libvirt.StoragePool{Name: def.Name, UUID: u}
}

func poolPath(p *pool) string { return filepath.Clean(p.def.Target.Path) }

func noPool(name string) error {
	return lverr(libvirt.ErrNoStoragePool, "Storage pool not found: no storage pool with matching name '%s'", name)
}

// inactivePool enters a call that needs the pool defined and stopped, as
// building and starting it do. Callers hold f.mu.
func (f *Fake) inactivePool(method string, h libvirt.StoragePool) (*pool, error) {
	if err := f.enter(method, true); err != nil {
		return nil, err
	}
	p, err := f.pool(h)
	if err != nil {
		return nil, err
	}
	if p.active {
		return nil, lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: storage pool '%s' is already active", p.def.Name)
	}
	return p, nil
}
