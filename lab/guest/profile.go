package guest

import (
	"fmt"
	"strconv"
	"time"
)

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
	// WriteDelay and FlushDelay are the device-mapper delays in the
	// An ext4 fdatasync waits for a data write, a journal write and a
	// flush, so its latency is about 2 × WriteDelay + FlushDelay; the probe
	// measures what it really is.
	WriteDelay time.Duration `json:"writeDelay"`
	FlushDelay time.Duration `json:"flushDelay"`
	// IOTune is the host-side cap; zero for none.
	IOTune HostIOCap `json:"iotune"`
}

// HostIOCap is a profile's cap on the host side of the data disk, what
// libvirt's <iotune> sets (virt.IOTune, which lab converts it to: lab/virt
// imports this package for DataTarget, so this one cannot import it back).
// Zero fields mean no cap.
type HostIOCap struct {
	TotalIOPS  uint64 // operations per second, reads and writes together
	TotalBytes uint64 // bytes per second, reads and writes together
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
			IOTune:     HostIOCap{TotalIOPS: 100, TotalBytes: 80 << 20},
		}, nil
	}
	return Profile{}, fmt.Errorf("unknown disk profile %q: use ssd or hdd", name)
}

// Table is the device-mapper table of the delay device over a disk of
// sectors 512-byte sectors: reads, writes and flushes each with its delay
// (the flush part needs Linux 4.19 or later). It is the table ApplyScript
// loads, with the disk's size read on the node.
func (p Profile) Table(sectors uint64) string {
	return DelayTable(strconv.FormatUint(sectors, 10), p.WriteDelay, p.FlushDelay)
}

// ApplyScript is the guest shell script that loads the profile's Table
// into the live delay device (LoadDelayScript); it prints the table
// in force last, for ParseDelayTable.
func (p Profile) ApplyScript() string {
	return LoadDelayScript(p.WriteDelay, p.FlushDelay)
}
