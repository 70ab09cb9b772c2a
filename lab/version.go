package lab

import (
	"runtime"
	"runtime/debug"

	"github.com/kthw-lab/lab/images/etcdbin"
)

// Version is the lab version, set at link time with
// -ldflags "-X github.com/kthw-lab/lab/lab.Version=v0.1.0".
var Version = "dev"

// etcdModule is the module whose version the guests' default etcd follows.
const etcdModule = "go.etcd.io/etcd/client/v3"

// BuildInfo tells which lab, Go and etcd versions this binary was built
// with, so bug reports and `lab version` can say exactly what ran.
type BuildInfo struct {
	Lab    string `json:"lab"`
	Commit string `json:"commit,omitempty"`
	Go     string `json:"go"`
	Etcd   string `json:"etcd"`
}

// ReadBuildInfo returns the versions compiled into this binary. The etcd
// version is the one pinned in go.mod; a binary without module information
// (a test binary) gives etcdbin's pinned version.
func ReadBuildInfo() BuildInfo {
	info := BuildInfo{Lab: Version, Go: runtime.Version(), Etcd: etcdbin.PinnedVersion()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	for _, dep := range bi.Deps {
		if dep.Path == etcdModule {
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
