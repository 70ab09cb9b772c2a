package virt

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/kthw-lab/lab/lab/virt/virttest"
)

func TestHost(t *testing.T) {
	p, f := newFake(t)
	got, err := p.Host(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := HostInfo{Name: "fakehost", Libvirt: "9.0.0", QEMU: "7.2.22", CPU: "Intel Skylake-Client-IBRS microcode 240", Security: []string{"none", "dac"}}
	if got.Name != want.Name || got.Libvirt != want.Libvirt || got.QEMU != want.QEMU || got.CPU != want.CPU || !slices.Equal(got.Security, want.Security) {
		t.Errorf("Host = %+v, want %+v", got, want)
	}

	// The identity, the self-test cache's key, changes with what decides
	// whether KVM runs guests: here the microcode.
	h := virttest.DefaultHost()
	h.Microcode, h.Security = 0, []string{"apparmor", "dac"}
	f.SetHost(h)
	other, err := p.Host(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if other.CPU != "Intel Skylake-Client-IBRS" || !slices.Equal(other.Security, h.Security) {
		t.Errorf("Host after SetHost = %+v", other)
	}
	if other.Identity() == got.Identity() {
		t.Errorf("identity %q unchanged by another microcode", got.Identity())
	}

	f.FailOn("ConnectGetCapabilities", 3, nil)
	_, err = p.Host(t.Context())
	wantErr(t, err, nil, "asking the libvirt host", "injected failure")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	before := f.Calls("ConnectGetHostname")
	_, err = p.Host(ctx)
	wantErr(t, err, context.Canceled, "asking the libvirt host")
	if f.Calls("ConnectGetHostname") != before {
		t.Error("Host asked libvirt after its context ended")
	}
}

func TestHasKVM(t *testing.T) {
	p, f := newFake(t)
	kvm, why, err := p.HasKVM(t.Context())
	if err != nil || !kvm || why != "" {
		t.Errorf("HasKVM on a KVM host = %v, %q, %v; want true", kvm, why, err)
	}
	h := virttest.DefaultHost()
	h.KVM, h.NoKVM = false, "KVM is not supported by '/usr/bin/qemu-system-x86_64' on this host"
	f.SetHost(h)
	kvm, why, err = p.HasKVM(t.Context())
	if err != nil || kvm || !strings.Contains(why, "KVM is not supported") {
		t.Errorf("HasKVM without KVM = %v, %q, %v; want false with libvirt's reason", kvm, why, err)
	}
}

func TestSize(t *testing.T) {
	p, f := newFake(t)
	h := virttest.DefaultHost()
	h.CPUs, h.MemoryKiB = 16, 64<<20
	f.SetHost(h)
	cpus, mem, err := p.Size(t.Context())
	if err != nil || cpus != 16 || mem != 64<<10 {
		t.Errorf("Size = %d CPUs, %d MiB, %v; want 16, 65536", cpus, mem, err)
	}
	f.FailOn("NodeGetInfo", 2, nil)
	_, _, err = p.Size(t.Context())
	wantErr(t, err, nil, "asking the libvirt host its size")
}

// syncBuffer is a console written by the stream's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProbeLifecycle: a probe starts as a transient domain, its console
// shows the boot from the first byte, and Stop leaves nothing behind.
func TestProbeLifecycle(t *testing.T) {
	p, f := newFake(t)
	f.AddFile("/cache/disk.qcow2", nil)
	const boot = "Linux version 6.1.0\nRun /init as init process\n"
	f.SetConsole("kvm", []byte(boot))
	var console syncBuffer
	pr, err := p.StartBootTest(t.Context(), BootTestSpec{Name: "lab-kvm-selftest-1", Accel: AccelKVM, Disk: "/cache/disk.qcow2"}, &console)
	if err != nil {
		t.Fatal(err)
	}
	if st, _, err := pr.State(); err != nil || st != StateRunning {
		t.Errorf("started probe is %q (%v), want running", st, err)
	}
	def, _, ok := f.Domain("lab-kvm-selftest-1")
	if !ok || def.Devices.Disks[0].ReadOnly == nil {
		t.Errorf("probe domain %v: %+v, want a read-only disk", ok, def.Devices)
	}
	waitUntil(t, func() bool { return console.String() == boot })
	if err := pr.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := pr.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if st, _, err := pr.State(); err != nil || st != StateAbsent {
		t.Errorf("stopped probe is %q (%v), want absent", st, err)
	}
	wantObjects(t, f)
}

// TestProbeEndsOnItsOwn: a guest that powers off takes its transient
// domain with it, which State reports as absent; Stop still succeeds.
func TestProbeEndsOnItsOwn(t *testing.T) {
	p, f := newFake(t)
	f.AddFile("/cache/disk.qcow2", nil)
	pr, err := p.StartBootTest(t.Context(), BootTestSpec{Name: "lab-kvm-selftest-2", Accel: AccelKVM, Disk: "/cache/disk.qcow2"}, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	f.SetDomainState("lab-kvm-selftest-2", libvirt.DomainShutoff)
	if st, _, err := pr.State(); err != nil || st != StateAbsent {
		t.Errorf("probe after power-off is %q (%v), want absent", st, err)
	}
	if err := pr.Stop(); err != nil {
		t.Errorf("Stop after power-off: %v", err)
	}
}

func TestProbeRefusals(t *testing.T) {
	p, f := newFake(t)
	f.AddFile("/cache/disk.qcow2", nil)
	f.AddDomain(`<domain type="kvm"><name>lab-kvm-selftest-3</name><memory unit="MiB">64</memory><os><type arch="x86_64">hvm</type></os></domain>`, true)
	_, err := p.StartBootTest(t.Context(), BootTestSpec{Name: "lab-kvm-selftest-3", Accel: AccelKVM, Disk: "/cache/disk.qcow2"}, &syncBuffer{})
	wantErr(t, err, ErrBootTestExists, `"lab-kvm-selftest-3"`, "left alone")
	if _, st, ok := f.Domain("lab-kvm-selftest-3"); !ok || st != libvirt.DomainRunning {
		t.Errorf("the existing domain was touched: %v, state %d", ok, st)
	}

	_, err = p.StartBootTest(t.Context(), BootTestSpec{Name: "lab-kvm-selftest-4", Accel: AccelKVM, Disk: "/cache/missing.qcow2"}, &syncBuffer{})
	wantErr(t, err, nil, "starting boot test", "Cannot access storage file '/cache/missing.qcow2'")

	f.FailOn("DomainResume", 1, nil)
	_, err = p.StartBootTest(t.Context(), BootTestSpec{Name: "lab-kvm-selftest-5", Accel: AccelKVM, Disk: "/cache/disk.qcow2"}, &syncBuffer{})
	wantErr(t, err, nil, "resuming boot test")
	wantObjects(t, f, "domain:lab-kvm-selftest-3")
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
