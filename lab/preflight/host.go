package preflight

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/kthw-lab/lab/lab/spec"
)

// LocalHost returns this machine's CPU count and total memory, which bound
// what one lab on it may ask for.
func LocalHost() (spec.HostLimits, error) {
	mem, err := memTotalMiB("/proc/meminfo")
	if err != nil {
		return spec.HostLimits{CPUs: runtime.NumCPU()}, err
	}
	return spec.HostLimits{CPUs: runtime.NumCPU(), MemoryMiB: mem}, nil
}

// memTotalMiB reads MemTotal (in kB) from a meminfo file.
func memTotalMiB(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("reading the host's memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.Atoi(fields[1])
			if err != nil {
				return 0, fmt.Errorf("reading the host's memory: MemTotal %q: %w", fields[1], err)
			}
			return kb / 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("reading the host's memory: %w", err)
	}
	return 0, fmt.Errorf("reading the host's memory: no MemTotal in %s", path)
}
