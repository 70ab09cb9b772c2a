package disk

import (
	"fmt"
	"strings"
	"time"

	"github.com/kthw-lab/lab/lab/virt"
)

// DeviceName is the device-mapper device that sits between the data disk
// and the file system mounted at /var/lib/etcd.
const DeviceName = "etcd-data"

// DataDisk is the guest's raw data disk under the delay device.
const DataDisk = "/dev/vdb"

// DataTarget is the data disk's target in the domain, for host-side caps.
const DataTarget = "vdb"

// Profile names.
const (
	SSD = "ssd"
	HDD = "hdd"
)

// DefaultHDDFsync is the fsync latency the hdd profile aims for: the
// story's notebook logged "sync duration of 1.04s", just over etcd's 1 s
// warning and as long as the default election timeout.
const DefaultHDDFsync = time.Second

// Profile is what a node's data disk should behave like.
type Profile struct {
	Name string `json:"name"`
	// WriteDelay and FlushDelay are the device-mapper delays in the guest.
	// An ext4 fdatasync waits for a data write, a journal write and a
	// flush, so its latency is about 2 × WriteDelay + FlushDelay; the probe
	// measures what it really is.
	WriteDelay time.Duration `json:"writeDelay"`
	FlushDelay time.Duration `json:"flushDelay"`
	// IOTune is the host-side cap; zero for none.
	IOTune virt.IOTune `json:"iotune"`
}

// ForName returns the named profile; for hdd, fsync is the fsync latency to
// aim for (0 means DefaultHDDFsync).
func ForName(name string, fsync time.Duration) (Profile, error) {
	switch name {
	case SSD:
		if fsync != 0 {
			return Profile{}, fmt.Errorf("--fsync-latency applies to the hdd profile only")
		}
		return Profile{Name: SSD}, nil
	case HDD:
		if fsync == 0 {
			fsync = DefaultHDDFsync
		}
		if fsync < 10*time.Millisecond || fsync > 30*time.Second {
			return Profile{}, fmt.Errorf("--fsync-latency %s is out of range: use 10ms to 30s", fsync)
		}
		// A 5400 rpm disk seeks in ~12 ms: each write pays that; the flush
		// (the drive emptying its cache to the platter, queued behind the
		// other VMs' I/O on a shared disk) pays the rest.
		write := min(12*time.Millisecond, fsync/10)
		return Profile{
			Name:       HDD,
			WriteDelay: write,
			FlushDelay: fsync - 2*write,
			IOTune:     virt.IOTune{TotalIOPS: 100, TotalBytes: 80 << 20},
		}, nil
	}
	return Profile{}, fmt.Errorf("unknown disk profile %q: use ssd or hdd", name)
}

// Table is the device-mapper table of the delay device over a disk of
// sectors 512-byte sectors: reads, writes and flushes each with its delay
// (the flush part needs Linux 4.19 or later).
func (p Profile) Table(sectors uint64) string {
	return fmt.Sprintf("0 %d delay %[2]s 0 0 %[2]s 0 %[3]d %[2]s 0 %[4]d", sectors,
		DataDisk, p.WriteDelay.Milliseconds(), p.FlushDelay.Milliseconds())
}

// ApplyScript is the guest shell script that loads the profile's table
// into the live delay device: suspend (in-flight I/O completes), load,
// resume. The mounted file system stays mounted and etcd keeps running.
func (p Profile) ApplyScript() string {
	return fmt.Sprintf(`set -e
sectors=$(blockdev --getsz %[1]s)
dmsetup suspend %[2]s
dmsetup load %[2]s --table "0 $sectors delay %[1]s 0 0 %[1]s 0 %[3]d %[1]s 0 %[4]d"
dmsetup resume %[2]s
dmsetup table %[2]s`, DataDisk, DeviceName, p.WriteDelay.Milliseconds(), p.FlushDelay.Milliseconds())
}

// CreateScript is the boot command that creates the delay device, with no
// delay, when it does not exist yet; the file system goes on top of it.
func CreateScript() string {
	return fmt.Sprintf(`[ -e /dev/mapper/%[2]s ] || dmsetup create %[2]s --table "0 $(blockdev --getsz %[1]s) delay %[1]s 0 0 %[1]s 0 0 %[1]s 0 0"`,
		DataDisk, DeviceName)
}

// ParseTable reads the write and flush delays back from `dmsetup table`.
func ParseTable(line string) (write, flush time.Duration, err error) {
	f := strings.Fields(line)
	// start length delay rdev roff rdelay wdev woff wdelay fdev foff fdelay
	if len(f) != 12 || f[2] != "delay" {
		return 0, 0, fmt.Errorf("not a delay table with a flush part: %q", line)
	}
	var w, fl int64
	if _, err := fmt.Sscan(f[8], &w); err != nil {
		return 0, 0, fmt.Errorf("reading the write delay of %q: %w", line, err)
	}
	if _, err := fmt.Sscan(f[11], &fl); err != nil {
		return 0, 0, fmt.Errorf("reading the flush delay of %q: %w", line, err)
	}
	return time.Duration(w) * time.Millisecond, time.Duration(fl) * time.Millisecond, nil
}
