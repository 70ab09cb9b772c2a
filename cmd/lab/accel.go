package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/lab/accel"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/virt"
)

// chooseAccel turns --accel auto into kvm or tcg and says which and why:
// tcg when this host's /dev/kvm cannot be opened, else the KVM self-test's
// verdict for this host and image, tested once and then cached.
func (g *globals) chooseAccel(ctx context.Context, p *virt.Provider, want string, img *images.Image) (string, error) {
	if want != spec.AccelAuto {
		return want, nil
	}
	status := g.status()
	if g.host.Remote() {
		r, err := remoteAccel(ctx, p)
		if err != nil {
			return "", fmt.Errorf("--accel auto: %w (or choose: --accel kvm|tcg)", err)
		}
		status.Printf("accel auto: %s", r.Reason)
		return r.Accel, nil
	}
	kvm, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		status.Printf("accel auto: using tcg (software emulation, slower): /dev/kvm is not usable: %v", err)
		return virt.AccelTCG, nil
	}
	kvm.Close()
	r, cached, err := g.kvmSelfTest(ctx, p, img, false)
	if err != nil {
		return "", fmt.Errorf("--accel auto: %w (or choose: --accel kvm|tcg)", err)
	}
	when := ""
	if cached {
		when = fmt.Sprintf(" [self-test of %s, cached; lab doctor tests again]", r.Tested.Local().Format(time.DateTime))
	}
	status.Printf("accel auto: %s%s", r.Reason, when)
	return r.Accel, nil
}

// remoteAccel is auto's choice on a remote host: the self-test boots the
// local cache's image, which that host does not have, so the host's domain
// capabilities decide.
func remoteAccel(ctx context.Context, p *virt.Provider) (accel.Result, error) {
	kvm, why, err := p.HasKVM(ctx)
	switch {
	case err != nil:
		return accel.Result{}, err
	case kvm:
		return accel.Result{Accel: accel.KVM, Reason: "the remote host offers KVM domains: using kvm (not self-tested remotely; if guests hang, --accel tcg)"}, nil
	}
	return accel.Result{Accel: accel.TCG, Reason: "the remote host offers no KVM (" + why + "): using tcg"}, nil
}

// kvmSelfTest returns the KVM self-test's result for the host behind p and
// img: from the cache unless fresh is set, else by booting img under KVM
// (and then caching it). cached says where the result came from.
func (g *globals) kvmSelfTest(ctx context.Context, p *virt.Provider, img *images.Image, fresh bool) (r accel.Result, cached bool, err error) {
	host, err := p.Host(ctx)
	if err != nil {
		return accel.Result{}, false, fmt.Errorf("kvm self-test: %w", err)
	}
	// KVM lives in the host's kernel, which libvirt does not name.
	release, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	parts := []string{g.Connect, host.Identity(), img.Digest, img.Disk, strings.TrimSpace(string(release))}
	key := accel.Key(parts...)
	c := accel.Cache{Dir: filepath.Join(g.CacheDir, "accel")}
	if !fresh {
		if r, ok := c.Load(key); ok {
			return r, true, nil
		}
	}
	o := accel.Options{Start: accel.ProviderStart(p), Disk: img.Disk}
	if img.Boot == images.BootKernel {
		o.Boot = virt.Boot{Kernel: img.Kernel, Initrd: img.Initrd, Cmdline: accel.ProbeCmdline}
	}
	end := g.status().Start("testing KVM: booting %s under it for up to %s", img.Name, accel.DefaultTimeout)
	r, err = accel.SelfTest(ctx, o)
	end(err)
	if err != nil {
		return accel.Result{}, false, err
	}
	r.Key, r.Tested = key, time.Now().UTC()
	if err := c.Save(r); err != nil {
		g.logger().Warn("kvm self-test result not cached", "err", err)
	}
	return r, false, nil
}
