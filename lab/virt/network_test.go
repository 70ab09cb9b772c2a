package virt

import (
	"net/netip"
	"testing"

	"github.com/kthw-lab/lab/lab/virt/virttest"
)

const foreignDefault = `<network>
  <name>default</name>
  <forward mode="nat"/>
  <bridge name="virbr0"/>
  <ip address="192.168.122.1" netmask="255.255.255.0"/>
</network>`

func TestEnsureNetworkCreatesAndIsIdempotent(t *testing.T) {
	p, f := newFake(t)
	f.AddNetwork(foreignDefault, true)
	s := testNetworkSpec(ModeIsolated)

	created, err := p.EnsureNetwork(t.Context(), s)
	if err != nil || !created {
		t.Fatalf("first ensure: created=%v, %v", created, err)
	}
	def, active, ok := f.Network("kthw-net")
	if !ok || !active {
		t.Fatalf("network ok=%v active=%v", ok, active)
	}
	if def.Forward != nil || def.Bridge.Name != "kthw-br0" || def.IPs[0].Address != "192.168.199.1" || def.IPs[0].Prefix != 24 {
		t.Errorf("definition = %+v", def)
	}

	created, err = p.EnsureNetwork(t.Context(), s)
	if err != nil || created {
		t.Fatalf("second ensure: created=%v, %v", created, err)
	}
	// Down after a host reboot: ensure starts it again.
	n, _ := p.c.NetworkLookupByName("kthw-net")
	if err := p.c.NetworkDestroy(n); err != nil {
		t.Fatal(err)
	}
	if created, err := p.EnsureNetwork(t.Context(), s); err != nil || created {
		t.Fatalf("ensure of a stopped network: created=%v, %v", created, err)
	}
	if _, active, _ := f.Network("kthw-net"); !active {
		t.Error("network not started again")
	}

	nets, err := p.Networks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []NetworkInfo{
		{Name: "default", Bridge: "virbr0", Prefixes: []netip.Prefix{netip.MustParsePrefix("192.168.122.1/24")}, Active: true},
		{Name: "kthw-net", Bridge: "kthw-br0", Prefixes: []netip.Prefix{netip.MustParsePrefix("192.168.199.1/24")}, Lab: "kthw", Active: true},
	}
	if len(nets) != 2 || nets[0].Name != want[0].Name || nets[0].Prefixes[0] != want[0].Prefixes[0] ||
		nets[1].Lab != "kthw" || nets[1].Bridge != want[1].Bridge || nets[0].Lab != "" {
		t.Errorf("Networks = %+v", nets)
	}
}

func TestEnsureNetworkNAT(t *testing.T) {
	p, f := newFake(t)
	if _, err := p.EnsureNetwork(t.Context(), testNetworkSpec(ModeNAT)); err != nil {
		t.Fatal(err)
	}
	if def, _, _ := f.Network("kthw-net"); def.Forward == nil || def.Forward.Mode != "nat" {
		t.Errorf("forward = %+v", def.Forward)
	}
}

func TestEnsureNetworkRefusesForeignAndConflicts(t *testing.T) {
	tests := []struct {
		name    string
		foreign string
		target  error
		parts   []string
	}{
		{"same name, no metadata", `<network><name>kthw-net</name><bridge name="other0"/><ip address="10.9.0.1" prefix="24"/></network>`,
			ErrNotOwned, []string{`"kthw-net"`, "no lab metadata"}},
		{"same name, another lab", `<network><name>kthw-net</name><metadata><lab:lab xmlns:lab="` + Namespace + `" name="other"/></metadata><bridge name="other0"/><ip address="10.9.0.1" prefix="24"/></network>`,
			ErrNotOwned, []string{`"kthw-net"`, `lab "other"`}},
		{"same bridge", `<network><name>theirs</name><bridge name="kthw-br0"/><ip address="10.9.0.1" prefix="24"/></network>`,
			ErrConflict, []string{`"kthw-br0"`, `"theirs"`}},
		{"overlapping subnet", `<network><name>wide</name><bridge name="wide0"/><ip address="192.168.0.1" netmask="255.255.0.0"/></network>`,
			ErrConflict, []string{"192.168.199.0/24", "192.168.0.0/16", `"wide"`}},
		{"inside subnet", `<network><name>narrow</name><bridge name="narrow0"/><ip address="192.168.199.129" prefix="25"/></network>`,
			ErrConflict, []string{`"narrow"`}},
		{"ours, other subnet", `<network><name>kthw-net</name><metadata><lab:lab xmlns:lab="` + Namespace + `" name="kthw"/></metadata><bridge name="kthw-br0"/><ip address="10.9.0.1" prefix="24"/></network>`,
			ErrConflict, []string{"10.9.0.1/24", "destroy the lab"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newFake(t)
			f.AddNetwork(tt.foreign, false)
			before := f.Objects()
			created, err := p.EnsureNetwork(t.Context(), testNetworkSpec(ModeIsolated))
			if created {
				t.Error("reported created")
			}
			wantErr(t, err, tt.target, tt.parts...)
			wantObjects(t, f, before...)
			for _, name := range before {
				if _, active, _ := f.Network(name[len("network:"):]); active {
					t.Errorf("%s was started", name)
				}
			}
		})
	}
}

func TestEnsureNetworkRollsBackFailedStart(t *testing.T) {
	p, f := newFake(t)
	f.FailOn("NetworkCreate", 1, nil)
	created, err := p.EnsureNetwork(t.Context(), testNetworkSpec(ModeIsolated))
	wantErr(t, err, virttest.ErrInjected, `starting network "kthw-net"`)
	if created {
		t.Error("reported created after rollback")
	}
	wantObjects(t, f)
}

func TestDeleteNetwork(t *testing.T) {
	p, f := newFake(t)
	if err := p.DeleteNetwork(t.Context(), "kthw-net", "kthw"); err != nil {
		t.Fatalf("absent: %v", err)
	}
	if _, err := p.EnsureNetwork(t.Context(), testNetworkSpec(ModeIsolated)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, p.DeleteNetwork(t.Context(), "kthw-net", "other"), ErrNotOwned, `lab "kthw"`)
	wantErr(t, p.DeleteNetwork(t.Context(), "kthw-net", ""), ErrNotOwned)
	for range 2 {
		if err := p.DeleteNetwork(t.Context(), "kthw-net", "kthw"); err != nil {
			t.Fatal(err)
		}
	}
	wantObjects(t, f)
}

func TestDeleteNetworkLeavesForeign(t *testing.T) {
	p, f := newFake(t)
	f.AddNetwork(`<network><name>kthw-net</name><bridge name="x0"/></network>`, true)
	wantErr(t, p.DeleteNetwork(t.Context(), "kthw-net", "kthw"), ErrNotOwned, "refusing to delete network", "no lab metadata")
	if _, active, ok := f.Network("kthw-net"); !ok || !active {
		t.Errorf("foreign network touched: ok=%v active=%v", ok, active)
	}
}

func TestDeleteNetworkFinishesHalfDeleted(t *testing.T) {
	p, f := newFake(t)
	if _, err := p.EnsureNetwork(t.Context(), testNetworkSpec(ModeIsolated)); err != nil {
		t.Fatal(err)
	}
	f.FailOn("NetworkUndefine", 1, nil)
	wantErr(t, p.DeleteNetwork(t.Context(), "kthw-net", "kthw"), virttest.ErrInjected, `undefining network "kthw-net"`)
	if err := p.DeleteNetwork(t.Context(), "kthw-net", "kthw"); err != nil {
		t.Fatal(err)
	}
	wantObjects(t, f)
}
