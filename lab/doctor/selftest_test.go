package doctor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/lab/accel"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/lab/virt/virttest"
)

// TestKVMSelfTest runs the doctor's KVM probe on the fake daemon: a fresh
// self-test (even with a verdict cached), a remote host judged without an
// image, and a missing image named.
func TestKVMSelfTest(t *testing.T) {
	f := virttest.New()
	img := &images.Image{Name: "debian-12", Boot: images.BootDisk, Disk: "/cache/disk.qcow2", Digest: "sha256:aa"}
	f.AddFile(img.Disk, nil)
	f.SetConsole("kvm", []byte("Linux version 6.1.0\nRun /init as init process\n"))
	dial := func(_ context.Context, uri string) (*virt.Provider, error) {
		if uri != "qemu:///system" {
			t.Errorf("dialled %q", uri)
		}
		return virt.NewProvider(f), nil
	}
	c := accel.Choice{CacheDir: t.TempDir(), Connect: "qemu:///system", OpenKVM: func() error { return nil }, Timeout: time.Second}
	probe := kvmSelfTest(c, func() (*images.Image, error) { return img, nil }, dial)
	for i := 1; i <= 2; i++ {
		r, err := probe(t.Context())
		if err != nil || r.Accel != accel.KVM {
			t.Fatalf("self-test %d = %+v, %v; want kvm", i, r, err)
		}
		if n := f.Calls("DomainCreateXML"); n != i {
			t.Errorf("after %d doctor runs %d probes booted: the doctor must test afresh", i, n)
		}
	}

	c.Remote = true
	f.SetHost(virttest.Host{KVM: false, NoKVM: "no /dev/kvm there"})
	remote := kvmSelfTest(c, func() (*images.Image, error) { t.Error("resolved an image for a remote host"); return nil, nil }, dial)
	if r, err := remote(t.Context()); err != nil || r.Accel != accel.TCG || !strings.Contains(r.Reason, "no /dev/kvm there") {
		t.Errorf("remote self-test = %+v, %v; want tcg with the host's reason", r, err)
	}

	c.Remote = false
	none := kvmSelfTest(c, func() (*images.Image, error) { return nil, errors.New("image debian-12 is not in the cache") }, dial)
	if _, err := none(t.Context()); err == nil || !strings.Contains(err.Error(), "no base image to boot: image debian-12 is not in the cache") {
		t.Errorf("self-test without an image: %v", err)
	}
}
