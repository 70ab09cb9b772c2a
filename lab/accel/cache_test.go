package accel

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCacheRoundTripAndKeys(t *testing.T) {
	c := Cache{Dir: filepath.Join(t.TempDir(), "accel")}
	k := Key("qemu:///system", "host libvirt 9000000", "sha256:aa")
	if k == Key("qemu:///system", "host libvirt 9000000", "sha256:bb") {
		t.Fatal("another image gave the same key")
	}
	if k == Key("qemu:///system", "host libvirt 9000001", "sha256:aa") {
		t.Fatal("another host gave the same key")
	}
	if _, ok := c.Load(k); ok {
		t.Fatal("Load found a result in an empty cache")
	}
	want := Result{Accel: TCG, Reason: "KVM present but guests do not boot", Took: 40 * time.Second,
		Tested: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), Key: k}
	if err := c.Save(want); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Load(k)
	if !ok || got.Accel != want.Accel || got.Reason != want.Reason || !got.Tested.Equal(want.Tested) || got.Took != want.Took {
		t.Fatalf("Load = %+v, %v; want %+v", got, ok, want)
	}
	if err := c.Save(Result{Accel: KVM}); err == nil {
		t.Error("Save without a key succeeded")
	}
	// A damaged entry means testing again, not an error.
	if err := os.WriteFile(filepath.Join(c.Dir, k+".json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Load(k); ok {
		t.Error("Load accepted a damaged entry")
	}
}
