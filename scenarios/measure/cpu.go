package measure

import (
	"fmt"
	"strconv"
	"strings"
)

// CPUScript prints what ParseCPU reads: the aggregate line of /proc/stat
// and /proc/loadavg.
const CPUScript = "head -n 1 /proc/stat; cat /proc/loadavg"

// CPUStat is one reading of a Linux machine's CPU counters: the jiffies
// spent in all states and in steal (time a guest was ready to run while
// its host ran something else), and the 1-minute load average.
type CPUStat struct {
	Total, Steal uint64
	Load1        float64
}

// ParseCPU reads CPUScript's output.
func ParseCPU(out string) (CPUStat, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		return CPUStat{}, fmt.Errorf("reading /proc/stat and /proc/loadavg: %d lines, want 2: %q", len(lines), out)
	}
	f := strings.Fields(lines[0])
	if len(f) < 9 || f[0] != "cpu" {
		return CPUStat{}, fmt.Errorf("reading /proc/stat: want the cpu line with 8 counters: %q", lines[0])
	}
	var s CPUStat
	// user nice system idle iowait irq softirq steal [guest guest_nice]:
	// guest time is already in user and nice, so it is not added twice.
	for i, v := range f[1:9] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return CPUStat{}, fmt.Errorf("reading /proc/stat: counter %d: %w", i+1, err)
		}
		s.Total += n
		if i == 7 {
			s.Steal = n
		}
	}
	load := strings.Fields(lines[1])
	if len(load) == 0 {
		return CPUStat{}, fmt.Errorf("reading /proc/loadavg: empty")
	}
	l, err := strconv.ParseFloat(load[0], 64)
	if err != nil {
		return CPUStat{}, fmt.Errorf("reading /proc/loadavg: %w", err)
	}
	s.Load1 = l
	return s, nil
}

// StealShare is the share of the CPU time between two readings that was
// stolen; 0 when no time passed.
func StealShare(before, after CPUStat) float64 {
	if after.Total <= before.Total || after.Steal < before.Steal {
		return 0
	}
	return float64(after.Steal-before.Steal) / float64(after.Total-before.Total)
}
