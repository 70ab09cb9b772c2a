package accel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/progress"
)

// Auto is --accel auto: KVM where a guest boots under it, else TCG.
const Auto = "auto"

// Device is the device qemu opens for KVM.
const Device = "/dev/kvm"

// Choice is what choosing the accelerator needs, all of it explicit: the
// host behind Provider, the image a self-test boots, where verdicts are
// kept, and the two facts of this machine it reads (OpenKVM, OSRelease),
// which tests replace.
type Choice struct {
	// Want is --accel: Auto, KVM or TCG. KVM and TCG are taken as they are.
	Want     string
	Provider *virt.Provider
	// Image is the base image the self-test boots, as the lab boots it.
	Image *images.Image
	// CacheDir is lab's cache directory; verdicts go to CacheDir/accel.
	CacheDir string
	// Connect is the libvirt URI, part of a verdict's key.
	Connect string
	// Remote is set when the host is reached over SSH: the self-test
	// boots an image from this machine's cache, which that host lacks,
	// and this machine's /dev/kvm says nothing of it, so the host's
	// domain capabilities decide.
	Remote bool
	// Fresh tests again instead of taking a cached verdict (lab doctor),
	// and caches the new one.
	Fresh bool
	// Progress receives the progress lines; nil prints nothing.
	Progress *progress.Printer
	// OpenKVM opens Device read-write and closes it again: an error means
	// qemu cannot use KVM for this user. Nil opens the real device.
	OpenKVM func() error
	// OSRelease returns the host kernel's release, which KVM lives in and
	// libvirt does not name (part of the key). Nil reads
	// /proc/sys/kernel/osrelease.
	OSRelease func() (string, error)
	// Timeout bounds the self-test's boot; DefaultTimeout when zero.
	Timeout time.Duration
}

// Choose turns c.Want into KVM or TCG. For Auto it says which and why on
// c.Status: TCG when this machine's /dev/kvm cannot be opened, the remote
// host's domain capabilities for a remote host, else the KVM self-test's
// verdict for this host and image, tested once and then cached.
func Choose(ctx context.Context, c Choice) (string, error) {
	if c.Want != Auto {
		return c.Want, nil
	}
	r, cached, err := Verdict(ctx, c)
	if err != nil {
		return "", fmt.Errorf("--accel auto: %w (or choose: --accel kvm|tcg)", err)
	}
	when := ""
	if cached {
		when = fmt.Sprintf(" [self-test of %s, cached; lab doctor tests again]", r.Tested.Local().Format(time.DateTime))
	}
	c.status().Printf("accel auto: %s%s", r.Reason, when)
	return r.Accel, nil
}

// Verdict is auto's answer for the host, with the reason, without saying
// it: what Choose says and lab doctor reports. cached tells whether it
// came from the cache.
func Verdict(ctx context.Context, c Choice) (r Result, cached bool, err error) {
	if c.Remote {
		r, err := remote(ctx, c.Provider)
		return r, false, err
	}
	open := c.OpenKVM
	if open == nil {
		open = openDevice
	}
	if err := open(); err != nil {
		return Result{Accel: TCG, Reason: fmt.Sprintf("using tcg (software emulation, slower): %s is not usable: %v", Device, err)}, false, nil
	}
	return c.selfTest(ctx)
}

func openDevice() error {
	f, err := os.OpenFile(Device, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return f.Close()
}

// remote is auto's verdict on a remote host.
func remote(ctx context.Context, p *virt.Provider) (Result, error) {
	kvm, why, err := p.HasKVM(ctx)
	switch {
	case err != nil:
		return Result{}, err
	case kvm:
		return Result{Accel: KVM, Reason: "the remote host offers KVM domains: using kvm (not self-tested remotely; if guests hang, --accel tcg)"}, nil
	}
	return Result{Accel: TCG, Reason: "the remote host offers no KVM (" + why + "): using tcg"}, nil
}

// selfTest returns the self-test's verdict for the host and image: from
// the cache unless c.Fresh, else by booting the image under KVM (and then
// caching it).
func (c Choice) selfTest(ctx context.Context) (Result, bool, error) {
	if c.Image == nil {
		return Result{}, false, errors.New("kvm self-test: no base image to boot")
	}
	key, err := c.key(ctx)
	if err != nil {
		return Result{}, false, err
	}
	cache := Cache{Dir: filepath.Join(c.CacheDir, "accel")}
	if !c.Fresh {
		if r, ok := cache.Load(key); ok {
			return r, true, nil
		}
	}
	o := Options{Start: ProviderStart(c.Provider), Disk: c.Image.Disk, Timeout: c.Timeout}
	if c.Image.Boot == images.BootKernel {
		o.Boot = virt.Boot{Kernel: c.Image.Kernel, Initrd: c.Image.Initrd, Cmdline: BootTestCmdline}
	}
	end := c.status().Start("testing KVM: booting %s under it for up to %s", c.Image.Name, orDefault(c.Timeout, DefaultTimeout))
	r, err := SelfTest(ctx, o)
	end(err)
	if err != nil {
		return Result{}, false, err
	}
	r.Key, r.Tested = key, time.Now().UTC()
	if err := cache.Save(r); err != nil {
		// The verdict stands; the next create only tests again.
		c.status().Printf("kvm self-test result not cached: %v", err)
	}
	return r, false, nil
}

// key names the verdict: the URI, the host as libvirt describes it, the
// image, and the host's kernel.
func (c Choice) key(ctx context.Context) (string, error) {
	host, err := c.Provider.Host(ctx)
	if err != nil {
		return "", fmt.Errorf("kvm self-test: %w", err)
	}
	read := c.OSRelease
	if read == nil {
		read = osRelease
	}
	// Unreadable, the release is only missing from the key, as before:
	// the other parts still name the host.
	release, _ := read()
	return Key(c.Connect, host.Identity(), c.Image.Digest, c.Image.Disk, strings.TrimSpace(release)), nil
}

func osRelease() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	return string(b), err
}

func (c Choice) status() *progress.Printer {
	if c.Progress == nil {
		return progress.Discard
	}
	return c.Progress
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
