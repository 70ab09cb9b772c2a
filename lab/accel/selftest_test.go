package accel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab/virt"
)

// fakeProbe is a guest whose console and state a test scripts: after
// States calls, it writes console and goes to state.
type fakeProbe struct {
	mu      sync.Mutex
	w       io.Writer
	console []byte
	after   int
	state   virt.State
	calls   int
	stopped bool
}

func (f *fakeProbe) State() (virt.State, int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls == f.after {
		f.w.Write(f.console)
		if f.state != "" {
			return f.state, 2, nil
		}
	}
	if f.calls >= f.after && f.state != "" {
		return f.state, 2, nil
	}
	return virt.StateRunning, 1, nil
}

func (f *fakeProbe) Stop() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	return nil
}

// starter returns a StartFunc that fails with errs in turn, then starts p,
// and records the specs it was given.
func starter(p *fakeProbe, specs *[]virt.BootTestSpec, errs ...error) StartFunc {
	return func(_ context.Context, s virt.BootTestSpec, w io.Writer) (Running, error) {
		*specs = append(*specs, s)
		if len(errs) > 0 {
			err := errs[0]
			errs = errs[1:]
			return nil, err
		}
		p.w = w
		return p, nil
	}
}

func fast(start StartFunc) Options {
	return Options{Start: start, Disk: "/base.qcow2", Timeout: 200 * time.Millisecond, Poll: time.Millisecond}
}

func TestSelfTestPicksKVMWhenTheGuestBoots(t *testing.T) {
	p := &fakeProbe{console: fixture(t, "booted.console"), after: 3}
	var specs []virt.BootTestSpec
	o := fast(starter(p, &specs))
	o.Timeout = time.Minute
	r, err := SelfTest(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Accel != KVM || r.MSRWorkaround || !p.stopped {
		t.Errorf("result %+v, stopped %v; want kvm, no workaround, probe stopped", r, p.stopped)
	}
	if len(specs) != 1 || specs[0].Accel != virt.AccelKVM || !specs[0].PlainPassthrough || !strings.HasPrefix(specs[0].Name, BootTestPrefix) || specs[0].Disk != "/base.qcow2" {
		t.Errorf("started %+v, want one plain host-passthrough KVM probe of the base image", specs)
	}
	if r.Took >= time.Minute {
		t.Errorf("the self-test waited %s for a guest that booted at once", r.Took)
	}
}

func TestSelfTestPicksTCGWhenTheGuestIsSilent(t *testing.T) {
	p := &fakeProbe{}
	var specs []virt.BootTestSpec
	r, err := SelfTest(t.Context(), fast(starter(p, &specs)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Accel != TCG || !strings.Contains(r.Reason, "KVM present but guests do not boot (no kernel output") || !p.stopped {
		t.Errorf("result %+v, stopped %v; want tcg for a silent guest, probe stopped", r, p.stopped)
	}
}

func TestSelfTestPicksTCGWhenQEMUPausesTheGuest(t *testing.T) {
	p := &fakeProbe{console: fixture(t, "stalled.console"), after: 2, state: virt.StatePaused}
	var specs []virt.BootTestSpec
	o := fast(starter(p, &specs))
	o.Timeout = time.Minute
	r, err := SelfTest(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Accel != TCG || !strings.Contains(r.Reason, "the guest went paused") || r.Took >= time.Minute {
		t.Errorf("result %+v; want tcg at once, saying the guest went paused", r)
	}
}

func TestSelfTestWorksAroundTheMSRFailure(t *testing.T) {
	p := &fakeProbe{console: fixture(t, "booted.console"), after: 1}
	var specs []virt.BootTestSpec
	msr := errors.New("internal error: process exited while connecting to monitor: error: failed to set MSR 0x10a to 0x2000000e1")
	r, err := SelfTest(t.Context(), fast(starter(p, &specs, msr)))
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 || !specs[0].PlainPassthrough || specs[1].PlainPassthrough {
		t.Fatalf("started %+v; want plain host-passthrough, then with arch-capabilities disabled", specs)
	}
	if r.Accel != KVM || !r.MSRWorkaround || !strings.Contains(r.Reason, "MSR 0x10a") {
		t.Errorf("result %+v; want kvm with the MSR workaround named", r)
	}
}

func TestSelfTestPicksTCGWhenLibvirtCannotStartKVM(t *testing.T) {
	var specs []virt.BootTestSpec
	r, err := SelfTest(t.Context(), fast(starter(nil, &specs, errors.New("unsupported configuration: domain type 'kvm' is not supported"))))
	if err != nil {
		t.Fatal(err)
	}
	if r.Accel != TCG || !strings.Contains(r.Reason, "libvirt could not start it: unsupported configuration") {
		t.Errorf("result %+v; want tcg with libvirt's error", r)
	}
}

func TestSelfTestStopsWhenCancelled(t *testing.T) {
	p := &fakeProbe{}
	var specs []virt.BootTestSpec
	ctx, cancel := context.WithCancel(t.Context())
	o := fast(starter(p, &specs))
	o.Timeout = time.Minute
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := SelfTest(ctx, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("SelfTest after cancel = %v, want context.Canceled", err)
	}
	if !p.stopped {
		t.Error("the probe was left running after cancel")
	}
}

func TestProbeNamesAreTheRunsOwn(t *testing.T) {
	a, b := BootTestName(), BootTestName()
	want := fmt.Sprintf("%s%d-", BootTestPrefix, os.Getpid())
	if !strings.HasPrefix(a, want) || a == b {
		t.Fatalf("ProbeName() = %q, %q; want distinct names starting %q", a, b, want)
	}
	if _, err := virt.BootTestXML(virt.BootTestSpec{Name: a, Accel: virt.AccelKVM, Disk: "/base.qcow2"}); err != nil {
		t.Fatalf("ProbeXML refuses the name: %v", err)
	}
}
