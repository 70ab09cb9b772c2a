package virt

import (
	"errors"
	"testing"

	"github.com/digitalocean/go-libvirt"
)

func TestSetBlockIOTune(t *testing.T) {
	p, f := newFake(t)
	s := testDomainSpec(AccelTCG)
	if err := p.DefineDomain(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	hdd := IOTune{TotalIOPS: 120, TotalBytes: 100 << 20}
	// libvirt tunes only running domains.
	wantErr(t, p.SetBlockIOTune(t.Context(), s.Name, s.Lab, "vdb", hdd), nil, "not running")
	if _, err := p.EnsureNetwork(t.Context(), testNetworkSpec(ModeIsolated)); err != nil {
		t.Fatal(err)
	}
	fakeHostFiles(f, s)
	if err := p.StartDomain(t.Context(), s.Name); err != nil {
		t.Fatal(err)
	}
	if err := p.SetBlockIOTune(t.Context(), s.Name, s.Lab, "vdb", hdd); err != nil {
		t.Fatal(err)
	}
	got := f.BlockIOTune(s.Name, "vdb")
	if got[libvirt.DomainBlockIotuneTotalIopsSec] != 120 || got[libvirt.DomainBlockIotuneTotalBytesSec] != 100<<20 {
		t.Fatalf("caps = %v", got)
	}
	// Zero removes the caps (the ssd profile).
	if err := p.SetBlockIOTune(t.Context(), s.Name, s.Lab, "vdb", IOTune{}); err != nil {
		t.Fatal(err)
	}
	if got := f.BlockIOTune(s.Name, "vdb"); got[libvirt.DomainBlockIotuneTotalIopsSec] != 0 {
		t.Fatalf("caps after reset = %v", got)
	}
	wantErr(t, p.SetBlockIOTune(t.Context(), s.Name, s.Lab, "vdz", hdd), nil, "vdz")
	if err := p.SetBlockIOTune(t.Context(), s.Name, "other", "vdb", hdd); !errors.Is(err, ErrNotOwned) {
		t.Fatalf("another lab's tune: %v, want ErrNotOwned", err)
	}
}
