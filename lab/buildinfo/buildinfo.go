// Package buildinfo tells which lab, Go and etcd versions this binary was
// built with, so bug reports and `lab version` can say exactly what ran.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Version is the lab version, set at link time with
// -ldflags "-X github.com/kthw-lab/lab/lab/buildinfo.Version=v0.1.0".
var Version = "dev"

// EtcdModule is the module whose version the guests' default etcd follows.
const EtcdModule = "go.etcd.io/etcd/client/v3"

// Info is what `lab version` prints.
type Info struct {
	Lab    string `json:"lab"`
	Commit string `json:"commit,omitempty"`
	Go     string `json:"go"`
	Etcd   string `json:"etcd"`
}

// Read returns the versions compiled into this binary. The etcd version is
// the one pinned in go.mod; fallback is used when the binary carries no
// module information (for example a test binary).
func Read(fallback string) Info {
	info := Info{Lab: Version, Go: runtime.Version(), Etcd: fallback}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	for _, dep := range bi.Deps {
		if dep.Path == EtcdModule {
			info.Etcd = dep.Version
		}
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			info.Commit = s.Value[:12]
		}
	}
	return info
}
