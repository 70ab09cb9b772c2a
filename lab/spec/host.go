package spec

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// HostLimits are what the machine that runs the VMs has: a lab asking for
// more is refused before anything is made, not after a 20-minute boot wait.
type HostLimits struct {
	// CPUs is the host's logical CPU count.
	CPUs int
	// MemoryMiB is the host's total memory.
	MemoryMiB int
}

// CheckHost reports, joined as *FieldErrors, what of s this host cannot
// run: more vCPUs per node than it has CPUs, or more memory for all nodes
// together than it has. Unknown limits (zero) are not checked.
func (s Spec) CheckHost(h HostLimits) error {
	var errs []error
	if h.CPUs > 0 && s.CPUs > h.CPUs {
		errs = append(errs, &FieldError{Flag: "--cpus", Value: fmt.Sprint(s.CPUs),
			Problem: fmt.Sprintf("more vCPUs per node than the %d CPUs of this host", h.CPUs),
			Fix:     fmt.Sprintf("use at most %d", h.CPUs)})
	}
	if h.MemoryMiB > 0 && s.Nodes > 0 && s.MemoryMiB > 0 {
		total := int64(s.MemoryMiB) * int64(s.Nodes)
		if total > int64(h.MemoryMiB) {
			fix := fmt.Sprintf("use at most --memory %d for %d nodes", h.MemoryMiB/s.Nodes, s.Nodes)
			if h.MemoryMiB/s.Nodes < MinMemoryMiB {
				fix = "use fewer --nodes, or a host with more memory"
			}
			errs = append(errs, &FieldError{Flag: "--memory", Value: fmt.Sprint(s.MemoryMiB),
				Problem: fmt.Sprintf("%d nodes × %d MiB = %d MiB, more than the %d MiB of this host", s.Nodes, s.MemoryMiB, total, h.MemoryMiB),
				Fix:     fix})
		}
	}
	return errors.Join(errs...)
}

// Milliseconds turns a flag's integer milliseconds into a duration,
// refusing a value a time.Duration cannot hold rather than letting it wrap
// (288230376151712504 ms would become 760 ms).
func Milliseconds(flag string, v int64) (time.Duration, error) {
	if v > math.MaxInt64/int64(time.Millisecond) || v < math.MinInt64/int64(time.Millisecond) {
		return 0, &FieldError{Flag: flag, Value: fmt.Sprint(v),
			Problem: "too large: more milliseconds than a duration holds",
			Fix:     fmt.Sprintf("use at most %d", MaxElectionTimeout.Milliseconds())}
	}
	return time.Duration(v) * time.Millisecond, nil
}
