package lab

import (
	"testing"

	"github.com/kthw-lab/lab/lab/spec"
)

// TestCheckupRequirements: the doctor checks the host for a lab of spec's
// defaults, on the host it was given, with the lab's own pool directory.
func TestCheckupRequirements(t *testing.T) {
	for _, tc := range []struct {
		uri    string
		remote bool
	}{
		{"qemu:///system", false},
		{"qemu+ssh://root@lab.invalid/system", true},
	} {
		h, err := NewHost(tc.uri)
		if err != nil {
			t.Fatal(err)
		}
		req := checkupRequirements(h, CheckupRequest{CacheDir: "/cache", Lab: "mine"})
		d := spec.Defaults()
		if req.ConnectURI != tc.uri || req.Remote != tc.remote || req.Accel != d.Accel || req.Nodes != d.Nodes ||
			req.NodeMemory != uint64(d.MemoryMiB)<<20 || req.NodeOverhead == 0 || req.HostOverhead == 0 {
			t.Errorf("%s: requirements = %+v", tc.uri, req)
		}
		if len(req.Disks) != 2 || req.Disks[0].Path != "/cache" || req.Disks[1].Path != spec.PoolPath("mine", spec.PoolSSD) {
			t.Errorf("%s: disks = %+v, want the cache and lab mine's ssd pool", tc.uri, req.Disks)
		}
	}
}
