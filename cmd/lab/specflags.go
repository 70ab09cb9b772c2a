package main

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab"
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
		&cli.StringFlag{Name: "image", Value: lab.DefaultImage(), Destination: &f.image, Usage: "base image: a name from 'lab image list' or a qcow2 path"},
	}
}

// spec turns the flags into a request. Relative paths are made absolute
// here, where the working directory is known.
func (f *specFlags) spec(name string) (spec.Spec, error) {
	s := spec.Defaults()
	s.Name = name
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

// request is what the flags ask create or render for, on host (nil for
// render).
func (f *specFlags) request(g *globals, host lab.HostChecks) (lab.Request, error) {
	s, err := f.spec(g.Lab)
	if err != nil {
		return lab.Request{}, fmt.Errorf("invalid lab settings:\n%w", err)
	}
	return lab.Request{Spec: s, EtcdVersion: f.etcdVersion, CacheDir: g.CacheDir, Host: host}, nil
}

// prepare checks and resolves what the flags ask for (lab.Prepare) before
// anything exists.
func (f *specFlags) prepare(ctx context.Context, g *globals, host lab.HostChecks) (*lab.Prepared, error) {
	r, err := f.request(g, host)
	if err != nil {
		return nil, err
	}
	return lab.Prepare(ctx, r)
}

// inputError is bad input found by looking at it (a file that is not what
// its flag wants): exit 2, like a malformed value.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// ExitCode is 2: the command line asked for something lab cannot use.
func (e inputError) ExitCode() int { return exitUsage }
