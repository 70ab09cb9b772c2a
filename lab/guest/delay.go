package guest

import (
	"fmt"
	"strings"
	"time"
)

// DataTarget is the data disk's target in the domain (its name on the
// virtio bus), and so its device name in the guest: DataDisk is the
// node's raw etcd data disk, under the delay device.
const (
	DataTarget = "vdb"
	DataDisk   = "/dev/" + DataTarget
)

// DelayDevice is the device-mapper device between DataDisk and the file
// system mounted at DataDir; DataDevice is its path.
const (
	DelayDevice = "etcd-data"
	DataDevice  = "/dev/mapper/" + DelayDevice
)

// sectorsVar is the shell variable the scripts hold DataDisk's size in.
const sectorsVar = "$sectors"

// DelayTable is the device-mapper table of the delay device over DataDisk
// of sectors 512-byte sectors (a number, or a shell word that expands to
// one): reads undelayed, writes and flushes each with its delay in whole
// milliseconds (the flush part needs Linux 4.19 or later). The scripts
// below load exactly this table.
func DelayTable(sectors string, write, flush time.Duration) string {
	return fmt.Sprintf("0 %s delay %[2]s 0 0 %[2]s 0 %[3]d %[2]s 0 %[4]d", sectors,
		DataDisk, write.Milliseconds(), flush.Milliseconds())
}

// sizeLine sets sectorsVar to DataDisk's size.
const sizeLine = "sectors=$(blockdev --getsz " + DataDisk + ")\n"

// CreateDelayScript is the boot command that creates the delay device,
// with no delay, when it does not exist yet; the file system goes on top
// of it.
func CreateDelayScript() string {
	return "[ -e " + DataDevice + " ] || { " + strings.TrimSuffix(sizeLine, "\n") + "; dmsetup create " + DelayDevice +
		" --table " + doubleQuoted(DelayTable(sectorsVar, 0, 0)) + "; }"
}

// LoadDelayScript loads a new table into the live delay device: suspend
// (in-flight I/O completes), load, resume; the mounted file system stays
// mounted and etcd keeps running. It prints the table in force last, for
// ParseDelayTable.
func LoadDelayScript(write, flush time.Duration) string {
	return "set -e\n" + sizeLine +
		fmt.Sprintf("dmsetup suspend %[1]s\ndmsetup load %[1]s --table %[2]s\ndmsetup resume %[1]s\ndmsetup table %[1]s",
			DelayDevice, doubleQuoted(DelayTable(sectorsVar, write, flush)))
}

// ParseDelayTable reads the write and flush delays back from a line of
// `dmsetup table`.
func ParseDelayTable(line string) (write, flush time.Duration, err error) {
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

// doubleQuoted puts a table in shell double quotes, so that sectorsVar
// expands and the table stays one word. A table holds only digits, spaces,
// the word delay, DataDisk and sectorsVar: nothing else in it is special
// to the shell.
func doubleQuoted(table string) string { return `"` + table + `"` }
