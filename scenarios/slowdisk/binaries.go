package slowdisk

import (
	"fmt"
	"slices"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/etcdbin"
)

// Binaries finds, in the cache under cacheDir, the etcd of each version
// (of the cells that run their own), so a missing one is refused before
// the first cell starts, with the command that fetches it. Versions in
// skip (the lab's own) are left out.
func Binaries(cacheDir string, versions []string, skip ...string) (map[string]EtcdBinary, error) {
	out := map[string]EtcdBinary{}
	for _, v := range versions {
		if v == "" || slices.Contains(skip, v) {
			continue
		}
		b, err := binary(cacheDir, v)
		if err != nil {
			return nil, err
		}
		out[v] = b
	}
	return out, nil
}

// ArmBinaries is Binaries for the arms that run their own etcd
// (ARM@VERSION); an error names the arm.
func ArmBinaries(cacheDir string, arms []Arm) (map[string]EtcdBinary, error) {
	out := map[string]EtcdBinary{}
	for _, a := range arms {
		if a.EtcdVersion == "" {
			continue
		}
		b, err := binary(cacheDir, a.EtcdVersion)
		if err != nil {
			return nil, fmt.Errorf("arm %s: %w", a.Name, err)
		}
		out[a.EtcdVersion] = b
	}
	return out, nil
}

// binary is the cached etcd of version v and its sha256.
func binary(cacheDir, v string) (EtcdBinary, error) {
	b, err := etcdbin.Resolve(images.OpenCache(cacheDir), v)
	if err != nil {
		return EtcdBinary{}, err
	}
	return EtcdBinary{Path: b.Etcd, SHA256: b.SHA256[etcdbin.EtcdFile]}, nil
}
