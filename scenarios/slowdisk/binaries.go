package slowdisk

import (
	"fmt"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/etcdbin"
)

// Binaries finds, in the cache under cacheDir, the etcd of every arm that
// runs its own version (ARM@VERSION), so a missing one is refused before
// the first arm starts, with the command that fetches it.
func Binaries(cacheDir string, arms []Arm) (map[string]EtcdBinary, error) {
	out := map[string]EtcdBinary{}
	for _, a := range arms {
		if a.EtcdVersion == "" {
			continue
		}
		b, err := etcdbin.Resolve(images.OpenCache(cacheDir), a.EtcdVersion)
		if err != nil {
			return nil, fmt.Errorf("arm %s: %w", a.Name, err)
		}
		out[a.EtcdVersion] = EtcdBinary{Path: b.Etcd, SHA256: b.SHA256[etcdbin.EtcdFile]}
	}
	return out, nil
}
