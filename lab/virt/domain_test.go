package virt

import (
	"testing"

	"github.com/digitalocean/go-libvirt"
	"github.com/kthw-lab/lab/lab/virt/virttest"
)

const foreignDomain = `<domain type="kvm"><name>kthw-k8smaster0</name><memory unit="MiB">512</memory></domain>`

// fakeHostFiles adds what the domain of testDomainSpec boots from but the
// lab does not create through libvirt.
func fakeHostFiles(f *virttest.Fake, s DomainSpec) {
	for _, p := range []string{s.Boot.Kernel, s.Boot.Initrd, s.OSDisk, s.DataDisk, s.SeedISO} {
		if p != "" {
			f.AddFile(p, []byte("x"))
		}
	}
}

func TestDefineStartDeleteDomain(t *testing.T) {
	p, f := newFake(t)
	s := testDomainSpec(AccelTCG)
	if st, err := p.DomainState(t.Context(), s.Name); err != nil || st != StateAbsent {
		t.Fatalf("before: %q, %v", st, err)
	}
	if err := p.DefineDomain(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	def, state, ok := f.Domain(s.Name)
	if !ok || state != libvirt.DomainShutoff || def.Type != "qemu" {
		t.Fatalf("defined: ok=%v state=%v type=%q", ok, state, def.Type)
	}
	uuid := def.UUID

	// Redefinition (a re-run of create) keeps the UUID libvirt insists on.
	s.MemoryMiB = 768
	if err := p.DefineDomain(t.Context(), s); err != nil {
		t.Fatalf("redefine: %v", err)
	}
	if def, _, _ := f.Domain(s.Name); def.UUID != uuid || def.Memory.Value != 768 {
		t.Errorf("redefined: uuid %s (was %s), memory %d", def.UUID, uuid, def.Memory.Value)
	}

	// The network is missing: libvirt refuses to start the domain.
	wantErr(t, p.StartDomain(t.Context(), s.Name), nil, `starting domain "kthw-k8smaster0"`, "'kthw-net'")
	if _, err := p.EnsureNetwork(t.Context(), testNetworkSpec(ModeIsolated)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, p.StartDomain(t.Context(), s.Name), nil, "Cannot access storage file")
	fakeHostFiles(f, s)
	for range 2 {
		if err := p.StartDomain(t.Context(), s.Name); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := p.DomainState(t.Context(), s.Name); err != nil || st != StateRunning {
		t.Errorf("state %q, %v", st, err)
	}
	doc, err := p.DomainXMLDesc(t.Context(), s.Name)
	if err != nil || doc == "" {
		t.Errorf("xml desc: %v", err)
	}
	owned, err := p.OwnedDomains(t.Context(), "kthw")
	if err != nil || len(owned) != 1 || owned[0] != (DomainInfo{Name: s.Name, Node: "k8smaster0", State: StateRunning}) {
		t.Errorf("OwnedDomains = %+v, %v", owned, err)
	}

	wantErr(t, p.DeleteDomain(t.Context(), s.Name, "other"), ErrNotOwned, `lab "kthw"`)
	for range 2 {
		if err := p.DeleteDomain(t.Context(), s.Name, "kthw"); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := p.DomainState(t.Context(), s.Name); st != StateAbsent {
		t.Errorf("after delete: %q", st)
	}
	wantObjects(t, f, "network:kthw-net")
}

func TestForeignDomainIsNeverTouched(t *testing.T) {
	p, f := newFake(t)
	f.AddDomain(foreignDomain, true)
	f.AddDomain(`<domain type="qemu"><name>other-k8smaster0</name><metadata><lab:lab xmlns:lab="`+Namespace+`" name="other" node="k8smaster0"/></metadata><memory unit="MiB">512</memory></domain>`, false)

	wantErr(t, p.DefineDomain(t.Context(), testDomainSpec(AccelTCG)), ErrNotOwned, `"kthw-k8smaster0"`, "no lab metadata")
	wantErr(t, p.DeleteDomain(t.Context(), "kthw-k8smaster0", "kthw"), ErrNotOwned, "refusing to delete domain")
	wantErr(t, p.DeleteDomain(t.Context(), "other-k8smaster0", "kthw"), ErrNotOwned, `lab "other"`)
	if def, state, ok := f.Domain("kthw-k8smaster0"); !ok || state != libvirt.DomainRunning || def.Memory.Value != 512 {
		t.Errorf("foreign domain touched: ok=%v state=%v", ok, state)
	}
	owned, err := p.OwnedDomains(t.Context(), "kthw")
	if err != nil || len(owned) != 0 {
		t.Errorf("OwnedDomains = %+v, %v", owned, err)
	}
	wantObjects(t, f, "domain:kthw-k8smaster0", "domain:other-k8smaster0")
}

func TestDeleteDomainStates(t *testing.T) {
	for _, st := range []libvirt.DomainState{libvirt.DomainShutoff, libvirt.DomainPaused, libvirt.DomainCrashed} {
		p, f := newFake(t)
		s := testDomainSpec(AccelKVM)
		if err := p.DefineDomain(t.Context(), s); err != nil {
			t.Fatal(err)
		}
		f.SetDomainState(s.Name, st)
		if err := p.DeleteDomain(t.Context(), s.Name, "kthw"); err != nil {
			t.Errorf("state %v: %v", st, err)
		}
		wantObjects(t, f)
	}
}

// An interrupted delete (destroyed, not yet undefined; or undefined while
// running, now transient) is finished by the next one.
func TestDeleteDomainAfterInterruption(t *testing.T) {
	for _, method := range []string{"DomainUndefineFlags", "DomainDestroy"} {
		p, f := newFake(t)
		s := testDomainSpec(AccelTCG)
		fakeHostFiles(f, s)
		if _, err := p.EnsureNetwork(t.Context(), testNetworkSpec(ModeIsolated)); err != nil {
			t.Fatal(err)
		}
		if err := p.DefineDomain(t.Context(), s); err != nil {
			t.Fatal(err)
		}
		if err := p.StartDomain(t.Context(), s.Name); err != nil {
			t.Fatal(err)
		}
		f.FailOn(method, 1, nil)
		wantErr(t, p.DeleteDomain(t.Context(), s.Name, "kthw"), virttest.ErrInjected)
		if err := p.DeleteDomain(t.Context(), s.Name, "kthw"); err != nil {
			t.Errorf("%s failed once, second delete: %v", method, err)
		}
		wantObjects(t, f, "network:kthw-net")
	}
}
