package lab

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/lab/virt"
)

// A pool with the lab's pool name that someone else defined, at their own
// directory with their file in it, is refused by create, and neither
// create nor destroy touches it or the file.
func TestForeignPoolWithTheLabsNameIsNeverAdopted(t *testing.T) {
	f := newFixture(t)
	f.fake.AddPool(`<pool type="dir"><name>kthw-ssd</name><target><path>/home/user/vms</path></target></pool>`, true)
	f.fake.AddFile("/home/user/vms/kthw-important.qcow2", []byte("user data"))
	before := f.fake.Objects()
	_, err := Create(t.Context(), f.opts)
	if !errors.Is(err, virt.ErrNotOwned) || !strings.Contains(err.Error(), `"kthw-ssd"`) || !strings.Contains(err.Error(), "virsh pool-undefine kthw-ssd") {
		t.Fatalf("create: %v, want a refusal naming the pool and how to remove it", err)
	}
	if err := Destroy(t.Context(), f.store, f.prov, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.fake.Objects(); !slices.Equal(got, before) {
		t.Fatalf("objects after create and destroy = %v, want %v", got, before)
	}
	if _, data, ok := f.fake.Volume("/home/user/vms/kthw-important.qcow2"); !ok || string(data) != "user data" {
		t.Fatalf("the user's file: exists %v, holds %q", ok, data)
	}
	if _, active, ok := f.fake.Pool("kthw-ssd"); !ok || !active {
		t.Fatalf("the foreign pool: exists %v, active %v", ok, active)
	}
	if _, ok := f.fake.Dir("/home/user/vms"); !ok {
		t.Fatal("the user's directory was removed")
	}
}

// A network with the lab's network name and no lab marker is refused, and
// left as it was.
func TestForeignNetworkWithTheLabsNameIsNeverAdopted(t *testing.T) {
	f := newFixture(t)
	f.fake.AddNetwork(`<network><name>lab-kthw</name><bridge name="virbr9"/><ip address="10.9.9.1" prefix="24"/></network>`, true)
	before := f.fake.Objects()
	_, err := Create(t.Context(), f.opts)
	if !errors.Is(err, virt.ErrNotOwned) || !strings.Contains(err.Error(), `"lab-kthw"`) || !strings.Contains(err.Error(), "virsh net-undefine") {
		t.Fatalf("create: %v, want a refusal naming the network and how to remove it", err)
	}
	if err := Destroy(t.Context(), f.store, f.prov, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.fake.Objects(); !slices.Equal(got, before) {
		t.Fatalf("objects after create and destroy = %v, want %v", got, before)
	}
}

// A network of the lab's name carrying the lab's marker but another UUID
// than the state records (another create of a lab with that name, whose
// state is elsewhere) is not adopted by a resumed create.
func TestResumedCreateAdoptsOnlyRecordedUUIDs(t *testing.T) {
	f := newFixture(t)
	f.fake.FailOn("StoragePoolDefineXML", 1, nil)
	if _, err := Create(t.Context(), f.opts); err == nil {
		t.Fatal("create with a failing pool definition succeeded")
	}
	st, err := f.store.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := st.Find(KindNetwork, "lab-kthw", "")
	if r == nil || r.UUID == "" || !r.Made {
		t.Fatalf("network record = %+v, want made with a UUID", r)
	}
	r.UUID = virt.NewUUID()
	if err := f.store.Save(st); err != nil {
		t.Fatal(err)
	}
	before := f.fake.Objects()
	_, err = Create(t.Context(), f.opts)
	if err == nil || !strings.Contains(err.Error(), `"lab-kthw"`) {
		t.Fatalf("resumed create with another recorded UUID: %v, want a refusal naming the network", err)
	}
	if got := f.fake.Objects(); !slices.Equal(got, before) {
		t.Fatalf("objects after the refused resume = %v, want %v", got, before)
	}
}

// A file with a volume's name in the lab's pool that the lab did not make
// is refused, not overwritten, and destroy leaves files without the lab's
// prefix.
func TestForeignVolumeInTheLabsPoolIsRefused(t *testing.T) {
	f := newFixture(t)
	ssd := f.opts.Plan.Spec.SSDPath
	f.fake.AddFile(ssd+"/kthw-base.qcow2", []byte("someone's image"))
	f.fake.AddFile(ssd+"/notes.txt", []byte("notes"))
	_, err := Create(t.Context(), f.opts)
	if !errors.Is(err, virt.ErrNotOwned) || !strings.Contains(err.Error(), `"kthw-base.qcow2"`) {
		t.Fatalf("create: %v, want a refusal naming the volume", err)
	}
	if _, data, _ := f.fake.Volume(ssd + "/kthw-base.qcow2"); string(data) != "someone's image" {
		t.Fatalf("the foreign volume now holds %q", data)
	}
	// The pool is at a directory the user named: a volume there that the
	// state does not record is not the lab's to delete.
	if err := Destroy(t.Context(), f.store, f.prov, nil); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{ssd + "/kthw-base.qcow2": "someone's image", ssd + "/notes.txt": "notes"} {
		if _, data, ok := f.fake.Volume(path); !ok || string(data) != want {
			t.Errorf("after destroy, %s: exists %v, holds %q", path, ok, data)
		}
	}
}
