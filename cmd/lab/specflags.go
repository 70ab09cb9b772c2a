package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab/preflight"
	"github.com/kthw-lab/lab/lab/spec"
)

// specFlags are the flags of create and render: what the lab should be.
type specFlags struct {
	nodes, cpus, memory     int
	subnet                  string
	dataPool                string
	ssdPath, hddPath        string
	networkMode, accel      string
	heartbeat, election     int
	etcdBinary, etcdVersion string
	image                   string
}

func (f *specFlags) flags() []cli.Flag {
	d := spec.Defaults()
	return []cli.Flag{
		&cli.IntFlag{Name: "nodes", Value: d.Nodes, Destination: &f.nodes, Usage: "number of control-plane nodes (odd: 1, 3, 5 ...)"},
		&cli.StringFlag{Name: "subnet", Value: d.Subnet.String(), Destination: &f.subnet, Usage: "IPv4 subnet of the lab's network; nodes get .200 upward"},
		&cli.IntFlag{Name: "cpus", Value: d.CPUs, Destination: &f.cpus, Usage: "vCPUs per node"},
		&cli.IntFlag{Name: "memory", Value: d.MemoryMiB, Destination: &f.memory, Usage: "memory per node in MiB"},
		&cli.StringFlag{Name: "data-pool", Value: d.DataPool, Destination: &f.dataPool, Usage: "pool of the etcd data disks: ssd or hdd"},
		&cli.StringFlag{Name: "ssd-path", Destination: &f.ssdPath, DefaultText: spec.DefaultPoolDir + "/lab-LAB-ssd", Usage: "directory of the ssd pool"},
		&cli.StringFlag{Name: "hdd-path", Destination: &f.hddPath, DefaultText: spec.DefaultPoolDir + "/lab-LAB-hdd", Usage: "directory of the hdd pool, for example on a real hard disk"},
		&cli.StringFlag{Name: "network-mode", Value: d.NetworkMode, Destination: &f.networkMode, Usage: "isolated (no way out) or nat"},
		&cli.StringFlag{Name: "accel", Value: d.Accel, Destination: &f.accel, Usage: "kvm, tcg (software emulation, slower) or auto: kvm when a guest boots under it (a self-test, cached per host and image), else tcg"},
		&cli.IntFlag{Name: "heartbeat-interval", Value: int(d.HeartbeatInterval / time.Millisecond), Destination: &f.heartbeat, Usage: "etcd --heartbeat-interval in milliseconds"},
		&cli.IntFlag{Name: "election-timeout", Value: int(d.ElectionTimeout / time.Millisecond), Destination: &f.election, Usage: "etcd --election-timeout in milliseconds (at least 5 × heartbeat, at most 50000)"},
		&cli.StringFlag{Name: "etcd-binary", Destination: &f.etcdBinary, Usage: "a local etcd binary (linux-amd64) instead of the cached one; etcdctl next to it is used too"},
		&cli.StringFlag{Name: "etcd-version", Destination: &f.etcdVersion, DefaultText: "the pinned " + etcdbin.PinnedVersion(), Usage: "cached etcd version to use"},
		&cli.StringFlag{Name: "image", Value: defaultImage, Destination: &f.image, Usage: "base image: a name from 'lab image list' or a qcow2 path"},
	}
}

// spec turns the flags into a request. Relative paths are made absolute
// here, where the working directory is known.
func (f *specFlags) spec(lab string) (spec.Spec, error) {
	s := spec.Defaults()
	s.Name = lab
	subnet, err := netip.ParsePrefix(f.subnet)
	if err != nil {
		return s, refuse("--subnet", fmt.Sprintf("%q", f.subnet), "not a subnet", "write it as an IPv4 prefix such as 192.168.199.0/24")
	}
	s.Subnet = subnet
	s.Nodes, s.CPUs, s.MemoryMiB = f.nodes, f.cpus, f.memory
	s.DataPool, s.NetworkMode, s.Accel = f.dataPool, f.networkMode, f.accel
	if s.HeartbeatInterval, err = spec.Milliseconds("--heartbeat-interval", int64(f.heartbeat)); err != nil {
		return s, err
	}
	if s.ElectionTimeout, err = spec.Milliseconds("--election-timeout", int64(f.election)); err != nil {
		return s, err
	}
	s.Image = f.image
	for _, p := range []struct {
		dst *string
		src string
	}{{&s.SSDPath, f.ssdPath}, {&s.HDDPath, f.hddPath}, {&s.EtcdBinary, f.etcdBinary}} {
		if p.src == "" {
			continue
		}
		abs, err := filepath.Abs(p.src)
		if err != nil {
			return s, err
		}
		*p.dst = abs
	}
	return s, nil
}

// localEtcd checks --etcd-binary: an ELF executable for x86-64 (and
// etcdctl next to it, if there is one). A file that is not is bad input.
func (f *specFlags) localEtcd() (*etcdbin.Binaries, error) {
	abs, err := filepath.Abs(f.etcdBinary)
	if err != nil {
		return nil, err
	}
	bins, err := etcdbin.FromPath(abs)
	if err != nil {
		return nil, inputError{fmt.Errorf("--etcd-binary: %w", err)}
	}
	return bins, nil
}

// hostChecks is the host that runs the VMs (a *lab.Host), for create's
// checks of its size and its networks. Render has none: it makes no VM.
type hostChecks interface {
	// Limits returns the host's CPUs and memory.
	Limits(ctx context.Context) (spec.HostLimits, error)
	// Prefixes returns the host's interfaces' networks and routes.
	Prefixes(ctx context.Context) ([]spec.NamedPrefix, error)
}

// plan validates everything the user asked for, before anything exists.
func (f *specFlags) plan(g *globals) (*spec.Plan, *images.Image, *etcdbin.Binaries, error) {
	p, img, bins, _, err := f.preflight(context.Background(), g, nil)
	return p, img, bins, err
}

// preflight checks the request in the order that costs least and tells
// most: names, flags and their ranges (against the host's size with h),
// the files given (image header, etcd ELF), the subnet against the host's
// networks (with h); only then the cache. Libvirt and the KVM self-test
// come after it, in create. It returns the host's networks for create's
// second look, together with libvirt's networks.
func (f *specFlags) preflight(ctx context.Context, g *globals, h hostChecks) (*spec.Plan, *images.Image, *etcdbin.Binaries, []spec.NamedPrefix, error) {
	s, err := f.spec(g.Lab)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("invalid lab settings:\n%w", err)
	}
	p, err := s.Plan()
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("invalid lab settings:\n%w", err)
	}
	if h != nil {
		limits, err := h.Limits(ctx)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if err := s.CheckHost(limits); err != nil {
			return nil, nil, nil, nil, fmt.Errorf("this host cannot run the lab:\n%w", err)
		}
	}
	if strings.ContainsRune(f.image, os.PathSeparator) {
		if err := preflight.CheckImage(s.Image); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	var local *etcdbin.Binaries
	if f.etcdBinary != "" {
		if local, err = f.localEtcd(); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	var hostNets []spec.NamedPrefix
	if h != nil {
		if hostNets, err = h.Prefixes(ctx); err != nil {
			return nil, nil, nil, nil, err
		}
		if err := spec.CheckOverlap(p, hostNets); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	img, err := images.Resolve(g.cache(), f.image)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	bins := local
	if bins == nil {
		if bins, err = etcdbin.Resolve(g.cache(), f.etcdVersion); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	p.Etcd.Version = bins.Version
	return p, img, bins, hostNets, nil
}

// inputError is bad input found by looking at it (a file that is not what
// its flag wants): exit 2, like a malformed value.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// ExitCode is 2: the command line asked for something lab cannot use.
func (e inputError) ExitCode() int { return exitUsage }
