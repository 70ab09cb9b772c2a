package doctor

import (
	"errors"
	"testing"
)

func TestMemory(t *testing.T) {
	tests := []struct {
		name   string
		mem    uint64
		err    error
		status Verdict
		req    bool
		detail string
		fix    string
	}{{
		name: "enough", mem: 8 * gib, status: OK, req: true,
		detail: "8192 MiB available, 4352 MiB needed: 3 nodes × (1024 MiB + 256 MiB qemu overhead) + 512 MiB for the host",
	}, {
		name: "exactly enough", mem: 4352 << 20, status: OK, req: true,
		detail: "4352 MiB available",
	}, {
		// (3072 - 512) / 3 - 256 = 597 MiB per node, rounded down to 576.
		name: "smaller nodes fit", mem: 3 * gib, status: Fail, req: true,
		detail: "3072 MiB available, 4352 MiB needed",
		fix:    "lab create --memory 576 (or stop other VMs: virsh list)",
	}, {
		// Three nodes of the 256 MiB minimum need 3 × 512 + 512 = 2048 MiB.
		name: "not even the minimum fits", mem: 1 * gib, status: Fail, req: true,
		fix: "stop other VMs (virsh list) or programs to free 1024 MiB",
	}, {
		name: "less than the host's own share", mem: 256 << 20, status: Fail, req: true,
		fix: "free 1792 MiB",
	}, {
		name: "unreadable", err: errors.New("reading /proc/meminfo: permission denied"), status: Warn,
		detail: "cannot tell what is available: reading /proc/meminfo", fix: "grep MemAvailable /proc/meminfo",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHost()
			h.mem, h.memErr = tt.mem, tt.err
			want(t, check(t, h, story(), "memory"), tt.status, tt.req, tt.detail, tt.fix)
		})
	}
}

func TestDiskSpaceAddsUpNeedsOnOneFilesystem(t *testing.T) {
	h := newFakeHost()
	// 2 + 9 GiB needed, each alone would fit in 10 GiB.
	h.disks["default"] = DiskSpace{Free: 10 * gib, Filesystem: "2049", Measured: "/var"}
	want(t, check(t, h, story(), "disk space"), Fail, true,
		"10.0 GiB free, 11.0 GiB needed for /var/cache/lab (image cache), /var/lib/libvirt/images/lab-kthw-ssd (ssd pool)",
		"free 1.0 GiB on the filesystem of /var, or move the image cache: lab --cache-dir DIR image build, or move the ssd pool: lab create --ssd-path DIR")

	h.disks["default"] = DiskSpace{Free: 11 * gib, Filesystem: "2049", Measured: "/var"}
	want(t, check(t, h, story(), "disk space"), OK, true, "11.0 GiB free, 11.0 GiB needed", "")
}

func TestDiskSpacePerFilesystem(t *testing.T) {
	h := newFakeHost()
	h.disks["/var/lib/libvirt/images/lab-kthw-ssd"] = DiskSpace{Free: 4 * gib, Filesystem: "2050", Measured: "/ssd"}
	req := story()
	req.Disks = append(req.Disks, DiskNeed{Label: "hdd pool", Path: "/srv/hdd", Need: 3 * gib})
	want(t, check(t, h, req, "disk space: image cache"), OK, true,
		"50.0 GiB free, 5.0 GiB needed for /var/cache/lab (image cache), /srv/hdd (hdd pool)", "")
	want(t, check(t, h, req, "disk space: ssd pool"), Fail, true,
		"4.0 GiB free, 9.0 GiB needed for /var/lib/libvirt/images/lab-kthw-ssd (ssd pool)",
		"free 5.0 GiB on the filesystem of /ssd, or move the ssd pool: lab create --ssd-path DIR")
}

func TestDiskSpaceProbeError(t *testing.T) {
	h := newFakeHost()
	h.diskErr = errors.New("measuring free space at /var/cache/lab: input/output error")
	cs := checks(t, h, story(), "disk space")
	if len(cs) != 2 {
		t.Fatalf("want a failure per directory, got %+v", cs)
	}
	want(t, cs[0], Fail, true, "/var/cache/lab (image cache): measuring free space", "lab --cache-dir DIR image build")
	req := story()
	req.Disks[0].Fix = ""
	want(t, checks(t, h, req, "disk space")[0], Fail, true, "input/output error", "ls -ld /var/cache/lab")
}

func TestNoDisksNoLine(t *testing.T) {
	req := story()
	req.Disks = nil
	if cs := checks(t, newFakeHost(), req, "disk space"); len(cs) != 0 {
		t.Errorf("got %+v for no directories", cs)
	}
}
