package accel

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/lab/virt/virttest"
	"github.com/kthw-lab/lab/progress"
)

// chooser is a Choice on a fake daemon whose KVM guests print console
// (nil: they hang, as on the machines lab is built on), with the progress
// lines in out.
func chooser(t *testing.T, console []byte) (Choice, *virttest.Fake, *bytes.Buffer) {
	t.Helper()
	f := virttest.New()
	img := &images.Image{Name: "debian-12", Boot: images.BootKernel, Disk: "/cache/debian-12/disk.qcow2",
		Kernel: "/cache/debian-12/vmlinuz", Initrd: "/cache/debian-12/initrd.img", Digest: "sha256:3f2a9c"}
	for _, p := range []string{img.Disk, img.Kernel, img.Initrd} {
		f.AddFile(p, nil)
	}
	f.SetConsole("kvm", console)
	var out bytes.Buffer
	return Choice{
		Want: Auto, Provider: virt.NewProvider(f), Image: img, CacheDir: t.TempDir(),
		Connect: "qemu:///system", Progress: progress.New(&out, false),
		OpenKVM:   func() error { return nil },
		OSRelease: func() (string, error) { return "6.1.0-50-cloud-amd64\n", nil },
		Timeout:   300 * time.Millisecond,
	}, f, &out
}

// booted is how many self-tests booted a probe on f.
func booted(f *virttest.Fake) int { return f.Calls("DomainCreateXML") }

func TestChooseTakesKVMAndTCGAsTheyAre(t *testing.T) {
	for _, want := range []string{KVM, TCG} {
		c, f, out := chooser(t, nil)
		c.Want = want
		c.OpenKVM = func() error { t.Error("opened /dev/kvm for --accel " + want); return nil }
		got, err := Choose(t.Context(), c)
		if err != nil || got != want {
			t.Errorf("Choose(%s) = %q, %v", want, got, err)
		}
		if booted(f) != 0 || out.Len() != 0 {
			t.Errorf("--accel %s: %d probes, printed %q; want none", want, booted(f), out)
		}
	}
}

func TestChooseTCGWhenKVMCannotBeOpened(t *testing.T) {
	c, f, out := chooser(t, fixture(t, "booted.console"))
	c.OpenKVM = func() error { return errors.New("open /dev/kvm: no such file or directory") }
	got, err := Choose(t.Context(), c)
	if err != nil || got != TCG {
		t.Fatalf("Choose without /dev/kvm = %q, %v; want tcg", got, err)
	}
	if booted(f) != 0 {
		t.Errorf("booted %d probes without /dev/kvm", booted(f))
	}
	if !strings.Contains(out.String(), "accel auto: using tcg (software emulation, slower): /dev/kvm is not usable: open /dev/kvm: no such file") {
		t.Errorf("printed %q", out)
	}
}

// TestChooseSelfTestThenCache: the first choice boots the image under KVM
// and keeps the verdict; the next takes it from the cache without booting
// and says so; Fresh boots again.
func TestChooseSelfTestThenCache(t *testing.T) {
	c, f, out := chooser(t, nil)
	got, err := Choose(t.Context(), c)
	if err != nil || got != TCG {
		t.Fatalf("Choose with hanging KVM guests = %q, %v; want tcg", got, err)
	}
	if booted(f) != 1 || !strings.Contains(out.String(), "KVM present but guests do not boot (no kernel output") {
		t.Errorf("first choice: %d probes, printed %q", booted(f), out)
	}
	if objs := f.Objects(); len(objs) != 0 {
		t.Errorf("the self-test left %v", objs)
	}

	out.Reset()
	got, err = Choose(t.Context(), c)
	if err != nil || got != TCG || booted(f) != 1 {
		t.Fatalf("second choice = %q, %v after %d probes; want tcg from the cache", got, err, booted(f))
	}
	if !strings.Contains(out.String(), "cached; lab doctor tests again]") {
		t.Errorf("a cached verdict printed %q", out)
	}

	// Guests now boot (a kernel update fixed KVM): a fresh test sees it
	// and replaces the cached verdict.
	f.SetConsole("kvm", fixture(t, "booted.console"))
	c.Fresh = true
	r, cached, err := Verdict(t.Context(), c)
	if err != nil || cached || r.Accel != KVM || booted(f) != 2 {
		t.Fatalf("fresh verdict = %+v cached %v, %v after %d probes; want kvm, tested", r, cached, err, booted(f))
	}
	c.Fresh = false
	if r, cached, _ := Verdict(t.Context(), c); !cached || r.Accel != KVM {
		t.Errorf("after a fresh test the cache holds %+v (cached %v), want its kvm verdict", r, cached)
	}
}

// TestChooseKeyFollowsTheHost: another kernel release or another libvirt
// host is another verdict, so the self-test runs again.
func TestChooseKeyFollowsTheHost(t *testing.T) {
	c, f, _ := chooser(t, nil)
	if _, err := Choose(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	c.OSRelease = func() (string, error) { return "6.1.0-51-cloud-amd64\n", nil }
	if _, err := Choose(t.Context(), c); err != nil || booted(f) != 2 {
		t.Errorf("another kernel: %d probes (%v), want a second self-test", booted(f), err)
	}
	h := virttest.DefaultHost()
	h.QEMUVersion = 8002002
	f.SetHost(h)
	if _, err := Choose(t.Context(), c); err != nil || booted(f) != 3 {
		t.Errorf("another qemu: %d probes (%v), want a third self-test", booted(f), err)
	}
	if _, err := Choose(t.Context(), c); err != nil || booted(f) != 3 {
		t.Errorf("same host again: %d probes (%v), want the cached verdict", booted(f), err)
	}
}

// TestChooseRemote: a remote host's domain capabilities decide; neither
// this machine's /dev/kvm nor a self-test is involved.
func TestChooseRemote(t *testing.T) {
	for _, kvm := range []bool{true, false} {
		c, f, out := chooser(t, fixture(t, "booted.console"))
		c.Remote = true
		c.OpenKVM = func() error { t.Error("opened this machine's /dev/kvm for a remote host"); return nil }
		h := virttest.DefaultHost()
		h.KVM, h.NoKVM = kvm, "KVM is not supported by '/usr/bin/qemu-system-x86_64' on this host"
		f.SetHost(h)
		got, err := Choose(t.Context(), c)
		want, says := TCG, "the remote host offers no KVM (unsupported configuration: KVM is not supported"
		if kvm {
			want, says = KVM, "the remote host offers KVM domains: using kvm"
		}
		if err != nil || got != want || !strings.Contains(out.String(), says) {
			t.Errorf("remote host with KVM %v: %q, %v, printed %q; want %s saying %q", kvm, got, err, out, want, says)
		}
		if booted(f) != 0 {
			t.Errorf("remote host: %d probes booted", booted(f))
		}
	}
}

func TestChooseErrors(t *testing.T) {
	c, f, _ := chooser(t, nil)
	f.FailOn("ConnectGetHostname", 1, nil)
	_, err := Choose(t.Context(), c)
	if err == nil || !strings.Contains(err.Error(), "--accel auto: kvm self-test: asking the libvirt host") || !strings.Contains(err.Error(), "--accel kvm|tcg") {
		t.Errorf("Choose with a failing host = %v", err)
	}
	c, _, _ = chooser(t, nil)
	c.Image = nil
	if _, err := Choose(t.Context(), c); err == nil || !strings.Contains(err.Error(), "no base image") {
		t.Errorf("Choose without an image = %v", err)
	}
}

// TestChooseMSRWorkaround is this host's path on the fake daemon: libvirt
// refuses the plain host-passthrough CPU (MSR 0x10a), the self-test starts
// the probe again with arch-capabilities disabled, and the guest hangs.
func TestChooseMSRWorkaround(t *testing.T) {
	c, f, _ := chooser(t, nil)
	f.FailOn("DomainCreateXML", 1, libvirt.Error{Code: uint32(libvirt.ErrInternalError),
		Message: "internal error: qemu unexpectedly closed the monitor: kvm: error: failed to set MSR 0x10a to 0x2000e"})
	r, _, err := Verdict(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if r.Accel != TCG || !r.MSRWorkaround || !strings.Contains(r.Reason, "arch-capabilities disabled") || booted(f) != 2 {
		t.Errorf("verdict %+v after %d starts; want tcg with the MSR workaround, started twice", r, booted(f))
	}
	if objs := f.Objects(); len(objs) != 0 {
		t.Errorf("the self-test left %v", objs)
	}
}
