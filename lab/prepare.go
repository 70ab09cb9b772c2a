package lab

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab/preflight"
	"github.com/kthw-lab/lab/lab/spec"
)

// HostChecks is the host that will run the VMs, for the checks of its size
// and its networks; *Host is one.
type HostChecks interface {
	// Limits returns the host's CPUs and memory.
	Limits(ctx context.Context) (spec.HostLimits, error)
	// Prefixes returns the host's interfaces' networks and routes.
	Prefixes(ctx context.Context) ([]spec.NamedPrefix, error)
}

// Request is what create or render is asked for: the lab's spec, and the
// cached etcd version to use unless Spec.EtcdBinary names a file.
type Request struct {
	Spec        spec.Spec
	EtcdVersion string
	// CacheDir holds the base images and etcd binaries.
	CacheDir string
	// Host is where the VMs will run; nil (render, which makes none)
	// checks neither its size nor its networks.
	Host HostChecks
}

// Prepared is a request checked and resolved: nothing has been created.
type Prepared struct {
	Plan  *spec.Plan
	Image *images.Image
	Etcd  *etcdbin.Binaries
	// HostPrefixes are the host's networks, for create's second look
	// together with libvirt's.
	HostPrefixes []spec.NamedPrefix
}

// InputError is bad input found by looking at it (a file that is not what
// its flag wants), as opposed to a malformed value (*spec.FieldError).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Prepare checks r in the order that costs least and tells most: names,
// values and their ranges (against the host's size), the files given (the
// image's header, the etcd ELF), the subnet against the host's networks;
// only then the cache. Libvirt and the KVM self-test come after it, in
// create. Every refusal names the flag and the fix.
func Prepare(ctx context.Context, r Request) (*Prepared, error) {
	s := r.Spec
	p, err := s.Plan()
	if err != nil {
		return nil, fmt.Errorf("invalid lab settings:\n%w", err)
	}
	if r.Host != nil {
		limits, err := r.Host.Limits(ctx)
		if err != nil {
			return nil, err
		}
		if err := s.CheckHost(limits); err != nil {
			return nil, fmt.Errorf("this host cannot run the lab:\n%w", err)
		}
	}
	if strings.ContainsRune(s.Image, os.PathSeparator) {
		if err := preflight.CheckImage(s.Image); err != nil {
			return nil, err
		}
	}
	var local *etcdbin.Binaries
	if s.EtcdBinary != "" {
		if local, err = etcdbin.FromPath(s.EtcdBinary); err != nil {
			return nil, &InputError{fmt.Errorf("--etcd-binary: %w", err)}
		}
	}
	out := &Prepared{Plan: p, Etcd: local}
	if r.Host != nil {
		if out.HostPrefixes, err = r.Host.Prefixes(ctx); err != nil {
			return nil, err
		}
		if err := spec.CheckOverlap(p, out.HostPrefixes); err != nil {
			return nil, err
		}
	}
	c := &cache.Cache{Root: r.CacheDir}
	if out.Image, err = images.Resolve(c, s.Image); err != nil {
		return nil, err
	}
	if out.Etcd == nil {
		if out.Etcd, err = etcdbin.Resolve(c, r.EtcdVersion); err != nil {
			return nil, err
		}
	}
	p.Etcd.Version = out.Etcd.Version
	return out, nil
}
