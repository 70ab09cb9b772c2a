package virt

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/kthw-lab/lab/lab/virt/virttest"
)

// miniLab is the order of operations a lab create uses, over one node; it
// shows the fake supports "interrupted after each step, then destroy".
func miniCreate(ctx context.Context, p *Provider) error {
	if _, err := p.EnsureNetwork(ctx, testNetworkSpec(ModeIsolated)); err != nil {
		return err
	}
	if _, err := p.EnsurePool(ctx, ssdPool()); err != nil {
		return err
	}
	s := testDomainSpec(AccelTCG)
	var err error
	// Adopt: a lab's state records these volumes before they are made, so
	// a resumed create takes the ones an interrupted run left.
	osVol := overlaySpec()
	osVol.Adopt = true
	if s.OSDisk, err = p.CreateVolume(ctx, "kthw-ssd", osVol); err != nil {
		return err
	}
	if s.DataDisk, err = p.CreateVolume(ctx, "kthw-ssd", VolumeSpec{Name: "kthw-k8smaster0-data.raw", Lab: "kthw", Format: FormatRaw, CapacityBytes: 1 << 30, Adopt: true}); err != nil {
		return err
	}
	iso := isoImage()
	if s.SeedISO, err = p.CreateVolume(ctx, "kthw-ssd", VolumeSpec{Name: "kthw-k8smaster0-seed.iso", Lab: "kthw", Format: FormatRaw, CapacityBytes: uint64(len(iso)), Adopt: true}); err != nil {
		return err
	}
	if err := p.UploadVolume(ctx, "kthw-ssd", "kthw-k8smaster0-seed.iso", "kthw", bytes.NewReader(iso), int64(len(iso))); err != nil {
		return err
	}
	if err := p.DefineDomain(ctx, s); err != nil {
		return err
	}
	return p.StartDomain(ctx, s.Name)
}

func miniDestroy(ctx context.Context, p *Provider) error {
	return errors.Join(
		p.DeleteDomain(ctx, "kthw-k8smaster0", "kthw"),
		p.DeleteVolume(ctx, "kthw-ssd", "kthw-k8smaster0-os.qcow2", "kthw"),
		p.DeleteVolume(ctx, "kthw-ssd", "kthw-k8smaster0-data.raw", "kthw"),
		p.DeleteVolume(ctx, "kthw-ssd", "kthw-k8smaster0-seed.iso", "kthw"),
		p.DeletePool(ctx, "kthw-ssd", "kthw"),
		p.DeleteNetwork(ctx, "kthw-net", "kthw"),
	)
}

func newLabFake(t *testing.T) (*Provider, *virttest.Fake) {
	p, f := newFake(t)
	s := testDomainSpec(AccelTCG)
	f.AddFile(baseImage, make([]byte, 4096))
	f.AddFile(s.Boot.Kernel, []byte("kernel"))
	f.AddFile(s.Boot.Initrd, []byte("initrd"))
	f.AddNetwork(foreignDefault, true)
	f.AddDomain(`<domain type="kvm"><name>someones-vm</name><memory unit="MiB">512</memory></domain>`, true)
	return p, f
}

var foreign = []string{"domain:someones-vm", "network:default"}

func TestCreateThenDestroyLeavesNothing(t *testing.T) {
	p, f := newLabFake(t)
	if err := miniCreate(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	wantObjects(t, f, append([]string{
		"domain:kthw-k8smaster0", "network:kthw-net", "pool:kthw-ssd",
		"file:/srv/lab/ssd/kthw-k8smaster0-os.qcow2", "file:/srv/lab/ssd/kthw-k8smaster0-data.raw", "file:/srv/lab/ssd/kthw-k8smaster0-seed.iso",
	}, foreign...)...)
	// Re-running a finished create changes nothing.
	changes := f.Changes()
	if err := miniCreate(t.Context(), p); err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if got := f.Changes() - changes; got != 2 { // the seed is uploaded again and the domain redefined
		t.Errorf("re-run made %d changes, want 2", got)
	}
	for range 2 {
		if err := miniDestroy(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	wantObjects(t, f, foreign...)
}

func TestCreateInterruptedAtEachStepThenDestroy(t *testing.T) {
	p, f := newLabFake(t)
	if err := miniCreate(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	steps := f.Changes()
	for n := 1; n <= steps; n++ {
		p, f := newLabFake(t)
		f.FailAt(n, nil)
		if err := miniCreate(t.Context(), p); !errors.Is(err, virttest.ErrInjected) {
			t.Fatalf("step %d: create returned %v", n, err)
		}
		if err := miniDestroy(t.Context(), p); err != nil {
			t.Fatalf("step %d: destroy: %v", n, err)
		}
		wantObjects(t, f, foreign...)

		// And a create resumed after the interruption finishes.
		p, f = newLabFake(t)
		f.FailAt(n, nil)
		_ = miniCreate(t.Context(), p)
		if err := miniCreate(t.Context(), p); err != nil {
			t.Fatalf("step %d: resumed create: %v", n, err)
		}
		if st, _ := p.DomainState(t.Context(), "kthw-k8smaster0"); st != StateRunning {
			t.Errorf("step %d: resumed create left the domain %q", n, st)
		}
	}
}
