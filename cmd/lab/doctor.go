package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab/doctor"
	"github.com/kthw-lab/lab/lab/spec"
)

// defaultImage is the base image commands use when --image is not given.
var defaultImage = images.BuiltName(images.DefaultSuite)

func doctorCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check this host and print how to fix each problem",
		Description: `Checks, one line each, what a lab needs: the libvirt socket (and which daemon
answers), how libvirt confines qemu (AppArmor, SELinux), qemu, /dev/kvm and
whether the qemu user may open it, free memory and disk for a three-node lab,
the cached base image and etcd binaries. Every failure comes with the command
that fixes it. Exits 1 when a required check fails.

Where /dev/kvm is usable it boots the base image under KVM for up to 40 s and
reads the guest's console: on hosts where KVM is present but guests do not
boot (nested virtualisation without support, these build machines) it says so,
and --accel auto then uses TCG. The verdict is cached for 'lab create'.

With --connect qemu+ssh://..., libvirt is asked through the SSH tunnel and
what lives on that host (qemu, memory, the pools' disks) is left to a doctor
run there.`,
		Action: func(c *cli.Context) error {
			lookups := doctor.DefaultLookups(g.describeImage, g.describeEtcd)
			req := g.requirements()
			req.Remote = g.host.Remote()
			lookups.KVMGuests = doctor.KVMSelfTest(req, g.CacheDir, g.printer(), g.baseImage)
			checkup := doctor.Run(c.Context, lookups, req)
			if g.json() {
				if err := g.printJSON(checkup); err != nil {
					return err
				}
			} else if err := doctor.Render(g.streams.out, checkup); err != nil {
				return err
			}
			if checkup.Failed() {
				return exitError{code: 1}
			}
			return nil
		},
	}
}

func (g *globals) requirements() doctor.Requirements {
	d := spec.Defaults()
	return doctor.Requirements{
		ConnectURI: g.Connect,
		Accel:      d.Accel,
		Nodes:      d.Nodes,
		NodeMemory: uint64(d.MemoryMiB) << 20,
		// Zero would mean "no overhead", not "the default".
		NodeOverhead: doctor.DefaultNodeOverhead,
		HostOverhead: doctor.DefaultHostOverhead,
		Disks: []doctor.DiskNeed{
			{Label: "image cache", Path: g.CacheDir, Need: 3 << 30, Fix: "lab --cache-dir DIR ..."},
			{Label: "ssd pool", Path: spec.PoolPath(g.Lab, spec.PoolSSD), Need: uint64(d.Nodes) * 3 << 30, Fix: "lab create --ssd-path DIR"},
		},
	}
}

func (g *globals) describeImage(context.Context) (string, error) {
	img, err := g.baseImage()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s, %s boot) at %s", img.Name, img.Digest[:min(len(img.Digest), 19)], img.Boot, img.Disk), nil
}

func (g *globals) describeEtcd(context.Context) (string, error) {
	bins, err := etcdbin.Resolve(images.OpenCache(g.CacheDir), "")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("etcd %s (%s) at %s", bins.Version, bins.Source, bins.Etcd), nil
}

// baseImage is the default base image in the cache, which the doctor's
// KVM self-test boots.
func (g *globals) baseImage() (*images.Image, error) {
	return images.Resolve(images.OpenCache(g.CacheDir), defaultImage)
}
