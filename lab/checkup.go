package lab

import (
	"context"
	"fmt"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab/doctor"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/progress"
)

// DefaultImage is the base image create uses when --image is not given, and
// the one the doctor's KVM self-test boots.
func DefaultImage() string { return images.BuiltName(images.DefaultSuite) }

// CheckupRequest is what `lab doctor` checks the host for.
type CheckupRequest struct {
	// CacheDir is the image cache: where the base image and the etcd
	// binaries are looked up, whose disk must have room for them, and where
	// the KVM self-test's verdict is kept for the next --accel auto.
	CacheDir string
	// Lab is the lab whose default ssd pool directory must have room.
	Lab string
	// Progress shows the KVM self-test's boot; nil shows nothing.
	Progress *progress.Printer
}

// Checkup checks whether host can run a lab of spec's default size (nodes,
// memory, disks, accel auto) from the cache in r. It never fails: what a
// check cannot learn is a failed or warning line of the checkup, whose
// Failed says whether the host can run a lab at all.
func Checkup(ctx context.Context, host *Host, r CheckupRequest) doctor.Checkup {
	req := checkupRequirements(host, r)
	lookups := doctor.DefaultLookups(r.describeImage, r.describeEtcd)
	lookups.KVMGuests = doctor.KVMSelfTest(req, r.CacheDir, r.Progress, r.baseImage)
	return doctor.Run(ctx, lookups, req)
}

// checkupRequirements are a default lab's needs on host: spec's defaults,
// the image cache and the ssd pool with their sizes, and the fixes that
// name the flags to move them.
func checkupRequirements(host *Host, r CheckupRequest) doctor.Requirements {
	d := spec.Defaults()
	return doctor.Requirements{
		ConnectURI: host.URI(),
		Remote:     host.Remote(),
		Accel:      d.Accel,
		Nodes:      d.Nodes,
		NodeMemory: uint64(d.MemoryMiB) << 20,
		// Zero would mean "no overhead", not "the default".
		NodeOverhead: doctor.DefaultNodeOverhead,
		HostOverhead: doctor.DefaultHostOverhead,
		Disks: []doctor.DiskNeed{
			{Label: "image cache", Path: r.CacheDir, Need: 3 << 30, Fix: "lab --cache-dir DIR ..."},
			{Label: "ssd pool", Path: spec.PoolPath(r.Lab, spec.PoolSSD), Need: uint64(d.Nodes) * 3 << 30, Fix: "lab create --ssd-path DIR"},
		},
	}
}

// describeImage is the doctor's line for the cached default base image.
func (r CheckupRequest) describeImage(context.Context) (string, error) {
	img, err := r.baseImage()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s, %s boot) at %s", img.Name, img.Digest[:min(len(img.Digest), 19)], img.Boot, img.Disk), nil
}

// describeEtcd is the doctor's line for the cached etcd of the pinned
// version.
func (r CheckupRequest) describeEtcd(context.Context) (string, error) {
	bins, err := etcdbin.Resolve(images.OpenCache(r.CacheDir), "")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("etcd %s (%s) at %s", bins.Version, bins.Source, bins.Etcd), nil
}

// baseImage is the default base image in the cache, which the KVM
// self-test boots.
func (r CheckupRequest) baseImage() (*images.Image, error) {
	return images.Resolve(images.OpenCache(r.CacheDir), DefaultImage())
}
