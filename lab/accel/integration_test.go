//go:build integration

package accel

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/progress"
)

// TestIntegrationSelfTest boots the cached base image for real: first under
// TCG, which must reach userspace (so the probe's console reading works and
// a silent KVM guest is not a broken reader), then the KVM self-test, which
// must come to a decision in bounded time and, where it picks KVM, show the
// boot. LAB_EXPECT_ACCEL=tcg|kvm (set by CI on these machines, where KVM
// guests hang) also checks which one it picks.
func TestIntegrationSelfTest(t *testing.T) {
	ctx := t.Context()
	p, err := virt.Dial(ctx, "qemu:///system")
	if err != nil {
		t.Fatalf("libvirt must be reachable for -tags integration (start it: `sudo scripts/host-setup.sh`): %v", err)
	}
	defer p.Close()
	dir := os.Getenv("LAB_CACHE_DIR")
	if dir == "" {
		dir = "/var/cache/lab"
	}
	img, err := images.Resolve(cache.New(dir), images.BuiltName(images.DefaultSuite))
	if err != nil {
		t.Fatalf("the base image must be built for this test (make image): %v", err)
	}
	o := Options{Start: ProviderStart(p), Disk: img.Disk, Name: "lab-accel-itest", Timeout: 30 * time.Second}
	if img.Boot == images.BootKernel {
		o.Boot = virt.Boot{Kernel: img.Kernel, Initrd: img.Initrd, Cmdline: BootTestCmdline}
	}

	t.Run("tcg boots", func(t *testing.T) {
		var console lockedBuffer
		s := virt.BootTestSpec{Name: o.Name, Accel: virt.AccelTCG, Boot: o.Boot, Disk: o.Disk}
		probe, err := p.StartBootTest(ctx, s, &console)
		if err != nil {
			t.Fatal(err)
		}
		defer probe.Stop()
		end, err := watch(ctx, probe, &console, Options{Timeout: 2 * time.Minute, Poll: 250 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if got := Progress(console.Bytes()); got != StageBooted {
			t.Fatalf("under TCG the probe reached %q (%s); console:\n%s", got, end, tail(console.Bytes(), 2000))
		}
		if err := probe.Stop(); err != nil {
			t.Fatal(err)
		}
		if st, _, err := probe.State(); err != nil || st != virt.StateAbsent {
			t.Errorf("after Stop the transient probe is %q (%v), want it gone", st, err)
		}
	})

	t.Run("kvm self-test", func(t *testing.T) {
		began := time.Now()
		r, err := SelfTest(ctx, o)
		took := time.Since(began)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("self-test in %s: %s (stage %s, msr workaround %v)\nconsole tail:\n%s", took.Round(time.Millisecond), r.Reason, r.Stage, r.MSRWorkaround, r.Console)
		if took > o.Timeout+20*time.Second {
			t.Errorf("the self-test took %s, more than its %s bound", took, o.Timeout)
		}
		if r.Accel == KVM && Progress([]byte(r.Console)) < StageBooted {
			t.Errorf("picked kvm without a booted console")
		}
		if want := os.Getenv("LAB_EXPECT_ACCEL"); want != "" && r.Accel != want {
			t.Errorf("picked %s, LAB_EXPECT_ACCEL says %s: %s", r.Accel, want, r.Reason)
		}
		if st, err := p.DomainState(ctx, o.Name); err != nil || st != virt.StateAbsent {
			t.Errorf("after the self-test domain %s is %q (%v), want it gone", o.Name, st, err)
		}
	})
}

// TestIntegrationHasKVM asks the real daemon whether it offers KVM domains;
// these machines do (a /dev/kvm exists), which is why the self-test exists.
func TestIntegrationHasKVM(t *testing.T) {
	p, err := virt.Dial(t.Context(), "qemu:///system")
	if err != nil {
		t.Fatalf("libvirt must be reachable for -tags integration: %v", err)
	}
	defer p.Close()
	kvm, why, err := p.HasKVM(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat("/dev/kvm")
	if kvm != (statErr == nil) {
		t.Errorf("HasKVM = %v (%s), but /dev/kvm: %v", kvm, why, statErr)
	}
}

// TestIntegrationChoose is --accel auto on this host, as lab create and lab
// doctor run it: a fresh verdict boots the cached base image under KVM
// (this machine's /dev/kvm and kernel release, read for real) and caches
// it; the next choice takes it from the cache without booting.
func TestIntegrationChoose(t *testing.T) {
	ctx := t.Context()
	p, err := virt.Dial(ctx, "qemu:///system")
	if err != nil {
		t.Fatalf("libvirt must be reachable for -tags integration: %v", err)
	}
	defer p.Close()
	dir := os.Getenv("LAB_CACHE_DIR")
	if dir == "" {
		dir = "/var/cache/lab"
	}
	img, err := images.Resolve(cache.New(dir), images.BuiltName(images.DefaultSuite))
	if err != nil {
		t.Fatalf("the base image must be built for this test (make image): %v", err)
	}
	var out bytes.Buffer
	c := Choice{Want: Auto, Provider: p, Image: img, CacheDir: t.TempDir(), Connect: "qemu:///system",
		Progress: progress.New(&out, false), Fresh: true, Timeout: 30 * time.Second}
	began := time.Now()
	r, cached, err := Verdict(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fresh verdict in %s: %s\n%s", time.Since(began).Round(time.Millisecond), r.Reason, out.String())
	if cached || r.Key == "" || !strings.Contains(out.String(), "testing KVM: booting "+img.Name) {
		t.Errorf("fresh verdict: cached %v, key %q, printed %q; want a self-test", cached, r.Key, out.String())
	}
	if want := os.Getenv("LAB_EXPECT_ACCEL"); want != "" && r.Accel != want {
		t.Errorf("picked %s, LAB_EXPECT_ACCEL says %s: %s", r.Accel, want, r.Reason)
	}

	out.Reset()
	c.Fresh = false
	began = time.Now()
	got, err := Choose(ctx, c)
	took := time.Since(began)
	if err != nil || got != r.Accel {
		t.Fatalf("Choose after a fresh verdict = %q, %v; want %s", got, err, r.Accel)
	}
	if !strings.Contains(out.String(), "cached; lab doctor tests again]") || took > 5*time.Second {
		t.Errorf("Choose took %s and printed %q; want the cached verdict at once", took, out.String())
	}
}
