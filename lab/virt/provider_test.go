package virt

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/lab/virt/virttest"
)

var _ conn = (*virttest.Fake)(nil)

func newFake(t *testing.T) (*Provider, *virttest.Fake) {
	t.Helper()
	f := virttest.New()
	return NewProvider(f), f
}

// wantErr fails unless err wraps target and its message holds every part.
func wantErr(t *testing.T, err, target error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", target)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("error %q does not wrap %v", err, target)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func wantObjects(t *testing.T, f *virttest.Fake, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := f.Objects(); !slices.Equal(got, want) {
		t.Errorf("objects:\n got %q\nwant %q", got, want)
	}
}

func TestCancelledContextChangesNothing(t *testing.T) {
	p, f := newFake(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := p.EnsureNetwork(ctx, testNetworkSpec(ModeIsolated))
	wantErr(t, err, context.Canceled)
	_, err = p.EnsurePool(ctx, PoolSpec{Name: "kthw-ssd", Path: "/srv/ssd", Lab: "kthw"})
	wantErr(t, err, context.Canceled)
	wantErr(t, p.DefineDomain(ctx, testDomainSpec(AccelTCG)), context.Canceled)
	wantObjects(t, f)
}

func TestIsNotFound(t *testing.T) {
	p, _ := newFake(t)
	_, err := p.c.DomainLookupByName("nope")
	if !isNotFound(err) {
		t.Errorf("missing domain: %v", err)
	}
	_, err = p.c.NetworkLookupByName("nope")
	if !isNotFound(err) {
		t.Errorf("missing network: %v", err)
	}
	_, err = p.c.StoragePoolLookupByName("nope")
	if !isNotFound(errors.Join(errors.New("context"), err)) {
		t.Errorf("wrapped missing pool: %v", err)
	}
	if isNotFound(errors.New("Domain not found")) || isNotFound(nil) {
		t.Error("non-libvirt error taken as not found")
	}
}

// The fake answers every call virt finds by type assertion, so Host,
// HasKVM, Size and the boot test run in unit tests.
var (
	_ bootTestConn = (*virttest.Fake)(nil)
	_ hostConn     = (*virttest.Fake)(nil)
	_ kvmConn      = (*virttest.Fake)(nil)
	_ nodeConn     = (*virttest.Fake)(nil)
)
