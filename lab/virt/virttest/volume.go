package virttest

import (
	"bytes"
	"io"
	"path/filepath"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// AddVolume creates a volume from XML in a pool, as someone else would
// have. It panics when the fake cannot take it.
func (f *Fake) AddVolume(poolName, xml string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pools[poolName]
	if !ok {
		panic("virttest: AddVolume: no pool " + poolName)
	}
	if _, err := f.createVolume(p, xml); err != nil {
		panic("virttest: AddVolume: " + err.Error())
	}
}

// StoragePoolListAllVolumes implements the libvirt call: the files in an
// active pool's directory, by name.
func (f *Fake) StoragePoolListAllVolumes(h libvirt.StoragePool, _ int32, _ uint32) ([]libvirt.StorageVol, uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StoragePoolListAllVolumes", false); err != nil {
		return nil, 0, err
	}
	p, err := f.activePool(h)
	if err != nil {
		return nil, 0, err
	}
	dir := poolPath(p)
	var out []libvirt.StorageVol
	for _, path := range sortedKeys(f.files) {
		if filepath.Dir(path) == dir {
			out = append(out, libvirt.StorageVol{Pool: p.def.Name, Name: filepath.Base(path), Key: path})
		}
	}
	return out, uint32(len(out)), nil
}

// StorageVolLookupByName implements the libvirt call.
func (f *Fake) StorageVolLookupByName(h libvirt.StoragePool, name string) (libvirt.StorageVol, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StorageVolLookupByName", false); err != nil {
		return libvirt.StorageVol{}, err
	}
	p, err := f.activePool(h)
	if err != nil {
		return libvirt.StorageVol{}, err
	}
	path := filepath.Join(poolPath(p), name)
	if _, ok := f.files[path]; !ok || filepath.Base(path) != name {
		return libvirt.StorageVol{}, noVolume(name)
	}
	return libvirt.StorageVol{Pool: p.def.Name, Name: name, Key: path}, nil
}

// StorageVolCreateXML implements the libvirt call. A qcow2 volume with a
// backing file needs that file to exist and takes its size when the XML has
// no capacity.
func (f *Fake) StorageVolCreateXML(h libvirt.StoragePool, xml string, _ libvirt.StorageVolCreateFlags) (libvirt.StorageVol, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StorageVolCreateXML", true); err != nil {
		return libvirt.StorageVol{}, err
	}
	p, err := f.activePool(h)
	if err != nil {
		return libvirt.StorageVol{}, err
	}
	return f.createVolume(p, xml)
}

func (f *Fake) createVolume(p *pool, xml string) (libvirt.StorageVol, error) {
	var def libvirtxml.StorageVolume
	if err := def.Unmarshal(xml); err != nil {
		return libvirt.StorageVol{}, lverr(libvirt.ErrXMLDetail, "XML error: %v", err)
	}
	if def.Name == "" || filepath.Base(def.Name) != def.Name {
		return libvirt.StorageVol{}, lverr(libvirt.ErrXMLError, "XML error: invalid volume name '%s'", def.Name)
	}
	path := filepath.Join(poolPath(p), def.Name)
	if _, ok := f.files[path]; ok {
		return libvirt.StorageVol{}, lverr(libvirt.ErrStorageVolExist, "storage volume '%s' exists already", def.Name)
	}
	format := "raw"
	if def.Target != nil && def.Target.Format != nil && def.Target.Format.Type != "" {
		format = def.Target.Format.Type
	}
	var capacity uint64
	if def.Capacity != nil {
		capacity = def.Capacity.Value * unitBytes(def.Capacity.Unit)
	}
	vol := fileVolume(path, format, capacity)
	if def.BackingStore != nil {
		backing, ok := f.files[filepath.Clean(def.BackingStore.Path)]
		if !ok {
			return libvirt.StorageVol{}, lverr(libvirt.ErrInternalError, "internal error: Cannot access backing file '%s'", def.BackingStore.Path)
		}
		if capacity == 0 {
			vol.Capacity.Value = backing.vol.Capacity.Value
		}
		vol.BackingStore = def.BackingStore
	} else if capacity == 0 {
		return libvirt.StorageVol{}, lverr(libvirt.ErrXMLError, "XML error: missing capacity element")
	}
	vol.Name = def.Name
	f.files[path] = &file{vol: vol}
	return libvirt.StorageVol{Pool: p.def.Name, Name: def.Name, Key: path}, nil
}

// StorageVolDelete implements the libvirt call: the file goes.
func (f *Fake) StorageVolDelete(h libvirt.StorageVol, _ libvirt.StorageVolDeleteFlags) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StorageVolDelete", true); err != nil {
		return err
	}
	if _, err := f.volume(h); err != nil {
		return err
	}
	delete(f.files, h.Key)
	return nil
}

// StorageVolGetPath implements the libvirt call.
func (f *Fake) StorageVolGetPath(h libvirt.StorageVol) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StorageVolGetPath", false); err != nil {
		return "", err
	}
	if _, err := f.volume(h); err != nil {
		return "", err
	}
	return h.Key, nil
}

// StorageVolGetXMLDesc implements the libvirt call.
func (f *Fake) StorageVolGetXMLDesc(h libvirt.StorageVol, _ uint32) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StorageVolGetXMLDesc", false); err != nil {
		return "", err
	}
	fl, err := f.volume(h)
	if err != nil {
		return "", err
	}
	return fl.vol.Marshal()
}

// StorageVolUpload implements the libvirt call: it reads exactly length
// bytes from r into the volume at offset.
func (f *Fake) StorageVolUpload(h libvirt.StorageVol, r io.Reader, offset, length uint64, _ libvirt.StorageVolUploadFlags) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StorageVolUpload", true); err != nil {
		return err
	}
	fl, err := f.volume(h)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return lverr(libvirt.ErrRPC, "stream aborted: %v", err)
	}
	if uint64(len(data)) != length {
		return lverr(libvirt.ErrOperationFailed, "operation failed: stream sent %d bytes, expected %d", len(data), length)
	}
	end := offset + length
	if uint64(len(fl.data)) < end {
		fl.data = append(fl.data, make([]byte, end-uint64(len(fl.data)))...)
	}
	copy(fl.data[offset:], data)
	if end > fl.vol.Capacity.Value {
		fl.vol.Capacity.Value = end
	}
	fl.vol.Allocation.Value = uint64(len(fl.data))
	return nil
}

// volume resolves a volume handle; its pool must still be defined and active.
func (f *Fake) volume(h libvirt.StorageVol) (*file, error) {
	p, ok := f.pools[h.Pool]
	fl, exists := f.files[h.Key]
	if !ok || !exists || filepath.Dir(h.Key) != poolPath(p) {
		return nil, noVolume(h.Name)
	}
	if !p.active {
		return nil, lverr(libvirt.ErrOperationInvalid, "Requested operation is not valid: storage pool '%s' is not active", p.def.Name)
	}
	return fl, nil
}

func noVolume(name string) error {
	return lverr(libvirt.ErrNoStorageVol, "Storage volume not found: no storage vol with matching name '%s'", name)
}

func fileVolume(path, format string, capacity uint64) libvirtxml.StorageVolume {
	return libvirtxml.StorageVolume{
		Type:       "file",
		Name:       filepath.Base(path),
		Key:        path,
		Capacity:   &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: capacity},
		Allocation: &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: 0},
		Target: &libvirtxml.StorageVolumeTarget{
			Path:   path,
			Format: &libvirtxml.StorageVolumeTargetFormat{Type: format},
		},
	}
}

func unitBytes(unit string) uint64 {
	switch unit {
	case "", "b", "bytes", "B":
		return 1
	case "KB":
		return 1000
	case "k", "K", "KiB":
		return 1 << 10
	case "MB":
		return 1000 * 1000
	case "M", "MiB":
		return 1 << 20
	case "GB":
		return 1000 * 1000 * 1000
	case "G", "GiB":
		return 1 << 30
	}
	return 1
}

// isISO looks for the ISO 9660 primary volume descriptor at sector 16.
func isISO(data []byte) bool {
	return len(data) >= 0x8006 && bytes.Equal(data[0x8001:0x8006], []byte("CD001"))
}
