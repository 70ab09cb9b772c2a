package lab

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/progress"
)

// A lab whose state directory is gone is listed as an orphan and removed
// from the markers alone, pool directories that libvirt built at the lab's
// own path included; a foreign pool and network stay.
func TestOrphanSweep(t *testing.T) {
	f := newFixture(t)
	s := f.opts.Plan.Spec
	s.SSDPath = spec.PoolPath(s.Name, spec.PoolSSD)
	s.HDDPath = spec.PoolPath(s.Name, spec.PoolHDD)
	plan, err := s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	f.opts.Plan = plan
	f.fake.AddPool(`<pool type="dir"><name>images</name><target><path>/var/lib/libvirt/images</path></target></pool>`, true)
	f.fake.AddNetwork(`<network><name>default</name><bridge name="virbr0"/><ip address="192.168.122.1" prefix="24"/></network>`, true)
	if _, err := Create(t.Context(), f.opts); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Dir(f.store.Dir)
	if err := os.RemoveAll(f.store.Dir); err != nil {
		t.Fatal(err)
	}
	labs, err := List(t.Context(), stateDir, f.prov)
	if err != nil {
		t.Fatal(err)
	}
	if len(labs) != 1 || labs[0].Name != "kthw" || !labs[0].Orphan || labs[0].State || len(labs[0].Domains) != 3 ||
		!slices.Equal(labs[0].Networks, []string{"lab-kthw"}) || len(labs[0].Pools) != 2 || len(labs[0].Volumes) != 12 {
		t.Fatalf("List = %+v, want one orphan lab kthw with 3 domains, its network, 2 pools, 12 volumes", labs)
	}
	var log strings.Builder
	if err := Destroy(t.Context(), f.store, f.prov, progress.New(&log, false)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "orphans") || !strings.Contains(log.String(), "domain kthw-k8smaster0") {
		t.Errorf("destroy did not say it found orphans:\n%s", log.String())
	}
	if got := f.fake.Objects(); !slices.Equal(got, []string{"network:default", "pool:images"}) {
		t.Fatalf("objects after the sweep = %v", got)
	}
	for _, dir := range []string{s.SSDPath, s.HDDPath} {
		if _, ok := f.fake.Dir(dir); ok {
			t.Errorf("pool directory %s left", dir)
		}
	}
	if labs, err := List(t.Context(), stateDir, f.prov); err != nil || len(labs) != 0 {
		t.Fatalf("List after the sweep = %+v, %v", labs, err)
	}
}

// With the state present, objects with the lab's marker that it does not
// list are named and removed too.
func TestDestroyNamesOrphansMissingFromTheState(t *testing.T) {
	f := newFixture(t)
	if _, err := Create(t.Context(), f.opts); err != nil {
		t.Fatal(err)
	}
	st, err := f.store.Load()
	if err != nil {
		t.Fatal(err)
	}
	st.Resources = slices.DeleteFunc(st.Resources, func(r Resource) bool { return r.Name == "kthw-k8smaster1" })
	if err := f.store.Save(st); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	if err := Destroy(t.Context(), f.store, f.prov, progress.New(&log, false)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "1 objects carry its marker but its state does not list them") || !strings.Contains(log.String(), "domain kthw-k8smaster1") {
		t.Errorf("destroy output does not name the orphan:\n%s", log.String())
	}
	if got := f.fake.Objects(); len(got) != 0 {
		t.Fatalf("left after destroy: %v", got)
	}
}

// A state of schema 1 (before UUIDs) is still destroyed; a create does not
// resume it.
func TestSchemaOneStateIsDestroyed(t *testing.T) {
	f := newFixture(t)
	f.fake.FailOn("DomainCreate", 1, nil)
	if _, err := Create(t.Context(), f.opts); err == nil {
		t.Fatal("create with a failing start succeeded")
	}
	b, err := os.ReadFile(f.store.StateFile())
	if err != nil {
		t.Fatal(err)
	}
	old := strings.Replace(string(b), `"schema": 2`, `"schema": 1`, 1)
	if old == string(b) {
		t.Fatal("state has no schema 2 field")
	}
	if err := os.WriteFile(f.store.StateFile(), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(t.Context(), f.opts); err == nil || !strings.Contains(err.Error(), "lab destroy") {
		t.Fatalf("create resuming a schema 1 state: %v", err)
	}
	if err := Destroy(t.Context(), f.store, f.prov, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.fake.Objects(); len(got) != 0 {
		t.Fatalf("left after destroy: %v", got)
	}
}
