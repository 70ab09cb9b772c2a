package virt

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/lab/virt/virttest"
)

const baseImage = "/var/cache/lab/images/debian-12/disk.qcow2"

func ssdPool() PoolSpec { return PoolSpec{Name: "kthw-ssd", Path: "/srv/lab/ssd", Lab: "kthw"} }

func overlaySpec() VolumeSpec {
	return VolumeSpec{Name: "kthw-k8smaster0-os.qcow2", Lab: "kthw", Format: FormatQcow2, BackingPath: baseImage}
}

// isoImage is a minimal byte image libvirt would probe as ISO 9660.
func isoImage() []byte {
	b := make([]byte, 0x9000)
	copy(b[0x8001:], "CD001")
	return b
}

func TestEnsurePool(t *testing.T) {
	p, f := newFake(t)
	created, err := p.EnsurePool(t.Context(), ssdPool())
	if err != nil || !created {
		t.Fatalf("created=%v, %v", created, err)
	}
	def, active, ok := f.Pool("kthw-ssd")
	if !ok || !active || def.Target.Path != "/srv/lab/ssd" || def.Target.Permissions.Mode != "0711" {
		t.Errorf("pool ok=%v active=%v def=%+v", ok, active, def.Target)
	}
	if mode, ok := f.Dir("/srv/lab/ssd"); !ok || mode != "0711" {
		t.Errorf("directory: built %v, mode %q", ok, mode)
	}
	if created, err := p.EnsurePool(t.Context(), ssdPool()); err != nil || created {
		t.Errorf("second ensure: created=%v, %v", created, err)
	}
	pools, err := p.Pools(t.Context())
	if err != nil || len(pools) != 1 || pools[0] != (PoolInfo{Name: "kthw-ssd", Type: "dir", Path: "/srv/lab/ssd", Active: true, UUID: PoolUUID("kthw", "kthw-ssd"), Lab: "kthw"}) {
		t.Errorf("Pools = %+v, %v", pools, err)
	}
}

// A directory that exists (the user's own disk) is used as it is: a pool
// build would chmod it.
func TestEnsurePoolKeepsExistingDirectory(t *testing.T) {
	p, f := newFake(t)
	f.AddFile("/srv/lab/ssd/users-file", []byte("x"))
	if _, err := p.EnsurePool(t.Context(), ssdPool()); err != nil {
		t.Fatal(err)
	}
	if mode, _ := f.Dir("/srv/lab/ssd"); mode != "0755" {
		t.Errorf("existing directory's mode changed to %q", mode)
	}
	if err := p.DeletePool(t.Context(), "kthw-ssd", "kthw"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := f.Volume("/srv/lab/ssd/users-file"); !ok {
		t.Error("the user's file went with the pool")
	}
}

func TestEnsurePoolRefusesConflicts(t *testing.T) {
	p, f := newFake(t)
	f.AddPool(`<pool type="dir"><name>images</name><target><path>/srv/lab/ssd/</path></target></pool>`, true)
	_, err := p.EnsurePool(t.Context(), ssdPool())
	wantErr(t, err, ErrConflict, `"/srv/lab/ssd"`, `pool "images"`)
	wantObjects(t, f, "pool:images")

	p, f = newFake(t)
	f.AddPool(`<pool type="dir"><name>kthw-ssd</name><target><path>/elsewhere</path></target></pool>`, false)
	_, err = p.EnsurePool(t.Context(), ssdPool())
	wantErr(t, err, ErrNotOwned, `"/elsewhere"`, "virsh pool-undefine kthw-ssd")
	if _, active, _ := f.Pool("kthw-ssd"); active {
		t.Error("foreign pool was started")
	}

	// The lab's own pool (its UUID is the lab's marker) on another
	// directory is a conflict: the lab's settings changed.
	p, f = newFake(t)
	f.AddPool(`<pool type="dir"><name>kthw-ssd</name><uuid>`+PoolUUID("kthw", "kthw-ssd")+`</uuid><target><path>/elsewhere</path></target></pool>`, false)
	_, err = p.EnsurePool(t.Context(), ssdPool())
	wantErr(t, err, ErrConflict, `"/elsewhere"`)
	if _, active, _ := f.Pool("kthw-ssd"); active {
		t.Error("conflicting pool was started")
	}
}

func TestEnsurePoolRollsBack(t *testing.T) {
	p, f := newFake(t)
	f.FailOn("StoragePoolCreate", 1, nil)
	_, err := p.EnsurePool(t.Context(), ssdPool())
	wantErr(t, err, virttest.ErrInjected, `starting storage pool "kthw-ssd"`)
	wantObjects(t, f)
}

func TestDeletePool(t *testing.T) {
	p, f := newFake(t)
	if err := p.DeletePool(t.Context(), "kthw-ssd", "kthw"); err != nil {
		t.Fatalf("absent: %v", err)
	}
	f.AddPool(`<pool type="dir"><name>images</name><target><path>/var/lib/libvirt/images</path></target></pool>`, true)
	wantErr(t, p.DeletePool(t.Context(), "images", "kthw"), ErrNotOwned, `"images"`)

	if _, err := p.EnsurePool(t.Context(), ssdPool()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := p.DeletePool(t.Context(), "kthw-ssd", "kthw"); err != nil {
			t.Fatal(err)
		}
	}
	wantObjects(t, f, "pool:images")
}

func TestVolumes(t *testing.T) {
	p, f := newFake(t)
	f.AddFile(baseImage, make([]byte, 4096))
	if _, err := p.EnsurePool(t.Context(), ssdPool()); err != nil {
		t.Fatal(err)
	}

	path, err := p.CreateVolume(t.Context(), "kthw-ssd", overlaySpec())
	if err != nil || path != "/srv/lab/ssd/kthw-k8smaster0-os.qcow2" {
		t.Fatalf("overlay: %q, %v", path, err)
	}
	vol, _, ok := f.Volume(path)
	if !ok || vol.BackingStore == nil || vol.BackingStore.Path != baseImage || vol.Target.Format.Type != FormatQcow2 {
		t.Errorf("overlay volume = %+v", vol)
	}
	// A volume that exists is refused unless the lab's state records it.
	_, err = p.CreateVolume(t.Context(), "kthw-ssd", overlaySpec())
	wantErr(t, err, ErrNotOwned, `"kthw-k8smaster0-os.qcow2"`, "did not make it")
	// A recorded leftover of an interrupted run with the same definition
	// is reused.
	adopt := overlaySpec()
	adopt.Adopt = true
	if again, err := p.CreateVolume(t.Context(), "kthw-ssd", adopt); err != nil || again != path {
		t.Errorf("again: %q, %v", again, err)
	}
	other := adopt
	other.BackingPath = "/other/base.qcow2"
	_, err = p.CreateVolume(t.Context(), "kthw-ssd", other)
	wantErr(t, err, ErrConflict, `backing file "`+baseImage+`"`)

	data := VolumeSpec{Name: "kthw-k8smaster0-data.raw", Lab: "kthw", Format: FormatRaw, CapacityBytes: 1 << 30}
	if _, err := p.CreateVolume(t.Context(), "kthw-ssd", data); err != nil {
		t.Fatal(err)
	}
	data.CapacityBytes = 2 << 30
	data.Adopt = true
	_, err = p.CreateVolume(t.Context(), "kthw-ssd", data)
	wantErr(t, err, ErrConflict, "capacity")

	iso := isoImage()
	seed := VolumeSpec{Name: "kthw-k8smaster0-seed.iso", Lab: "kthw", Format: FormatRaw, CapacityBytes: uint64(len(iso))}
	seedPath, err := p.CreateVolume(t.Context(), "kthw-ssd", seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.UploadVolume(t.Context(), "kthw-ssd", seed.Name, "kthw", bytes.NewReader(iso), int64(len(iso))); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := f.Volume(seedPath); !bytes.Equal(got, iso) {
		t.Errorf("uploaded %d bytes, stored %d", len(iso), len(got))
	}
	// libvirt now probes the seed as "iso"; a re-run must still accept it.
	seed.Adopt = true
	if _, err := p.CreateVolume(t.Context(), "kthw-ssd", seed); err != nil {
		t.Errorf("re-creating the uploaded seed: %v", err)
	}
	err = p.UploadVolume(t.Context(), "kthw-ssd", "kthw-missing.iso", "kthw", bytes.NewReader(iso), int64(len(iso)))
	wantErr(t, err, nil, `"kthw-missing.iso"`)
	err = p.UploadVolume(t.Context(), "kthw-ssd", "someone.iso", "kthw", strings.NewReader("x"), 1)
	wantErr(t, err, ErrNotOwned)

	for _, name := range []string{"kthw-k8smaster0-os.qcow2", "kthw-k8smaster0-data.raw", "kthw-k8smaster0-seed.iso"} {
		for range 2 {
			if err := p.DeleteVolume(t.Context(), "kthw-ssd", name, "kthw"); err != nil {
				t.Fatalf("deleting %s: %v", name, err)
			}
		}
	}
	wantObjects(t, f, "pool:kthw-ssd")
	if _, _, ok := f.Volume(baseImage); !ok {
		t.Error("base image deleted")
	}
}

func TestCreateVolumeNeedsBackingFile(t *testing.T) {
	p, _ := newFake(t)
	if _, err := p.EnsurePool(t.Context(), ssdPool()); err != nil {
		t.Fatal(err)
	}
	_, err := p.CreateVolume(t.Context(), "kthw-ssd", overlaySpec())
	wantErr(t, err, nil, `creating volume "kthw-k8smaster0-os.qcow2" in pool "kthw-ssd"`, baseImage)
}

func TestDeleteVolumeForeignAndAbsent(t *testing.T) {
	p, f := newFake(t)
	if err := p.DeleteVolume(t.Context(), "kthw-ssd", "kthw-a.raw", "kthw"); err != nil {
		t.Errorf("pool absent: %v", err)
	}
	f.AddPool(`<pool type="dir"><name>images</name><target><path>/var/lib/libvirt/images</path></target></pool>`, true)
	f.AddVolume("images", `<volume><name>debian.qcow2</name><capacity>1024</capacity><target><format type="qcow2"/></target></volume>`)
	wantErr(t, p.DeleteVolume(t.Context(), "images", "debian.qcow2", "kthw"), ErrNotOwned, `"debian.qcow2"`)
	// A pool the lab did not define is not searched for the lab's volumes:
	// a file with the lab's prefix there is someone else's.
	f.AddVolume("images", `<volume><name>kthw-a.raw</name><capacity>1024</capacity><target><format type="raw"/></target></volume>`)
	wantErr(t, p.DeleteVolume(t.Context(), "images", "kthw-a.raw", "kthw"), ErrNotOwned, `"images"`)
	wantObjects(t, f, "pool:images", "file:/var/lib/libvirt/images/debian.qcow2", "file:/var/lib/libvirt/images/kthw-a.raw")
}

// After a host reboot the pools are defined but down; destroy must still
// find and delete the volumes.
func TestDeleteVolumeInStoppedPool(t *testing.T) {
	p, f := newFake(t)
	if _, err := p.EnsurePool(t.Context(), ssdPool()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreateVolume(t.Context(), "kthw-ssd", VolumeSpec{Name: "kthw-a.raw", Lab: "kthw", Format: FormatRaw, CapacityBytes: 10}); err != nil {
		t.Fatal(err)
	}
	sp, _ := p.c.StoragePoolLookupByName("kthw-ssd")
	if err := p.c.StoragePoolDestroy(sp); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteVolume(t.Context(), "kthw-ssd", "kthw-a.raw", "kthw"); err != nil {
		t.Fatal(err)
	}
	wantObjects(t, f, "pool:kthw-ssd")
}

// Undefining a pool does not delete its files: a destroy that skipped the
// volumes would leave them behind, and the fake shows it.
func TestDeletePoolKeepsFiles(t *testing.T) {
	p, f := newFake(t)
	if _, err := p.EnsurePool(t.Context(), ssdPool()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreateVolume(t.Context(), "kthw-ssd", VolumeSpec{Name: "kthw-a.raw", Lab: "kthw", Format: FormatRaw, CapacityBytes: 10}); err != nil {
		t.Fatal(err)
	}
	if err := p.DeletePool(t.Context(), "kthw-ssd", "kthw"); err != nil {
		t.Fatal(err)
	}
	wantObjects(t, f, "file:/srv/lab/ssd/kthw-a.raw")
}

// LabObjects lists what carries a lab's marker and nothing else: a foreign
// pool with the lab's prefix and a file with the lab's prefix in it stay
// out; a stopped lab pool whose directory is gone is still listed.
func TestLabObjects(t *testing.T) {
	p, f := newFake(t)
	if _, err := p.EnsurePool(t.Context(), ssdPool()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreateVolume(t.Context(), "kthw-ssd", VolumeSpec{Name: "kthw-a.raw", Lab: "kthw", Format: FormatRaw, CapacityBytes: 10}); err != nil {
		t.Fatal(err)
	}
	f.AddFile("/srv/lab/ssd/notes.txt", []byte("x"))
	f.AddPool(`<pool type="dir"><name>kthw-hdd</name><target><path>/home/user/hdd</path></target></pool>`, true)
	f.AddFile("/home/user/hdd/kthw-b.raw", []byte("x"))
	if _, err := p.EnsureNetwork(t.Context(), testNetworkSpec(ModeIsolated)); err != nil {
		t.Fatal(err)
	}
	objs, err := p.LabObjects(t.Context(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Kind+":"+o.Lab+":"+o.Pool+"/"+o.Name)
	}
	want := []string{"network:kthw:/kthw-net", "pool:kthw:/kthw-ssd", "volume:kthw:kthw-ssd/kthw-a.raw"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("LabObjects = %v, want %v", got, want)
	}
	if objs, err := p.LabObjects(t.Context(), "other", false); err != nil || len(objs) != 0 {
		t.Errorf("LabObjects(other) = %v, %v", objs, err)
	}
}
