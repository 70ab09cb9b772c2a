package main

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/etcdbin"
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
		&cli.StringFlag{Name: "ssd-path", Destination: &f.ssdPath, Usage: "directory of the ssd pool (default: " + spec.DefaultPoolDir + "/lab-LAB-ssd)"},
		&cli.StringFlag{Name: "hdd-path", Destination: &f.hddPath, Usage: "directory of the hdd pool, for example on a real hard disk (default: " + spec.DefaultPoolDir + "/lab-LAB-hdd)"},
		&cli.StringFlag{Name: "network-mode", Value: d.NetworkMode, Destination: &f.networkMode, Usage: "isolated (no way out) or nat"},
		&cli.StringFlag{Name: "accel", Value: d.Accel, Destination: &f.accel, Usage: "kvm, tcg (software emulation, slower) or auto: kvm when a guest boots under it (a self-test, cached per host and image), else tcg"},
		&cli.IntFlag{Name: "heartbeat-interval", Value: int(d.HeartbeatInterval / time.Millisecond), Destination: &f.heartbeat, Usage: "etcd --heartbeat-interval in milliseconds"},
		&cli.IntFlag{Name: "election-timeout", Value: int(d.ElectionTimeout / time.Millisecond), Destination: &f.election, Usage: "etcd --election-timeout in milliseconds (at least 5 × heartbeat, at most 50000)"},
		&cli.StringFlag{Name: "etcd-binary", Destination: &f.etcdBinary, Usage: "a local etcd binary (linux-amd64) instead of the cached one; etcdctl next to it is used too"},
		&cli.StringFlag{Name: "etcd-version", Destination: &f.etcdVersion, Usage: "cached etcd version to use (default: the pinned " + etcdbin.PinnedVersion() + ")"},
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
		return s, fmt.Errorf("--subnet %q is not a subnet: write it as 192.168.199.0/24", f.subnet)
	}
	s.Subnet = subnet
	s.Nodes, s.CPUs, s.MemoryMiB = f.nodes, f.cpus, f.memory
	s.DataPool, s.NetworkMode, s.Accel = f.dataPool, f.networkMode, f.accel
	s.HeartbeatInterval = time.Duration(f.heartbeat) * time.Millisecond
	s.ElectionTimeout = time.Duration(f.election) * time.Millisecond
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

// artifacts resolves the base image and the etcd binaries the lab needs.
// Errors name the command that provides them.
func (f *specFlags) artifacts(g *globals) (*images.Image, *etcdbin.Binaries, error) {
	img, err := images.Resolve(g.cache(), f.image)
	if err != nil {
		return nil, nil, err
	}
	var bins *etcdbin.Binaries
	if f.etcdBinary != "" {
		abs, _ := filepath.Abs(f.etcdBinary)
		bins, err = etcdbin.FromPath(abs)
	} else {
		bins, err = etcdbin.Resolve(g.cache(), f.etcdVersion)
	}
	if err != nil {
		return nil, nil, err
	}
	return img, bins, nil
}

// plan validates everything the user asked for, before anything exists.
func (f *specFlags) plan(g *globals) (*spec.Plan, *images.Image, *etcdbin.Binaries, error) {
	s, err := f.spec(g.Lab)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := s.Plan()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("invalid lab settings:\n%w", err)
	}
	img, bins, err := f.artifacts(g)
	if err != nil {
		return nil, nil, nil, err
	}
	p.Etcd.Version = bins.Version
	return p, img, bins, nil
}
