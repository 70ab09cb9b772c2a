package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/kthw-lab/lab/progress"
)

// minNodeMemory is the least memory a node boots and runs etcd with; the
// memory fix never suggests less.
const minNodeMemory = 256 << 20

// checkMemory compares the memory available now with what the nodes, their
// qemu processes and the host need while the lab runs.
func checkMemory(_ context.Context, p Lookups, req Requirements) []Check {
	const name = "memory"
	n := uint64(max(req.Nodes, 0))
	need := n*(req.NodeMemory+req.NodeOverhead) + req.HostOverhead
	how := fmt.Sprintf("%d nodes × (%s + %s qemu overhead) + %s for the host",
		n, mib(req.NodeMemory), mib(req.NodeOverhead), mib(req.HostOverhead))
	avail, err := p.MemAvailable()
	if err != nil {
		return []Check{warn(name, fmt.Sprintf("cannot tell what is available: %v", err), "grep MemAvailable /proc/meminfo", false)}
	}
	detail := fmt.Sprintf("%s available, %s needed: %s", mib(avail), mib(need), how)
	if avail >= need {
		return []Check{ok(name, detail, true)}
	}
	return []Check{fail(name, detail, memoryFix(avail, req), true)}
}

// memoryFix suggests the largest --memory that fits, rounded down to 64 MiB,
// or freeing memory when not even the minimum fits.
func memoryFix(avail uint64, req Requirements) string {
	const step = 64 << 20
	n := uint64(max(req.Nodes, 1))
	if avail > req.HostOverhead {
		if perNode := (avail - req.HostOverhead) / n; perNode > req.NodeOverhead {
			if mem := (perNode - req.NodeOverhead) / step * step; mem >= minNodeMemory {
				return fmt.Sprintf("lab create --memory %d (or stop other VMs: virsh list)", mem>>20)
			}
		}
	}
	short := n*(minNodeMemory+req.NodeOverhead) + req.HostOverhead - avail
	return fmt.Sprintf("stop other VMs (virsh list) or programs to free %s", mib(short))
}

// checkDisks compares the free space of each filesystem the lab writes to
// with the needs of the directories on it, added up.
func checkDisks(_ context.Context, p Lookups, req Requirements) []Check {
	type group struct {
		space DiskSpace
		needs []DiskNeed
		total uint64
	}
	var groups []*group
	byFS := map[string]*group{}
	var checks []Check
	for _, d := range req.Disks {
		space, err := p.Disk(d.Path)
		if err != nil {
			checks = append(checks, fail("disk space", fmt.Sprintf("%s (%s): %v", d.Path, d.Label, err),
				or(d.Fix, "ls -ld "+d.Path), true))
			continue
		}
		g := byFS[space.Filesystem]
		if g == nil {
			g = &group{space: space}
			byFS[space.Filesystem] = g
			groups = append(groups, g)
		}
		g.needs = append(g.needs, d)
		g.total += d.Need
	}
	for _, g := range groups {
		name := "disk space"
		if len(groups) > 1 {
			name += ": " + g.needs[0].Label
		}
		where := make([]string, len(g.needs))
		for i, d := range g.needs {
			where[i] = fmt.Sprintf("%s (%s)", d.Path, d.Label)
		}
		detail := fmt.Sprintf("%s free, %s needed for %s", human(g.space.Free), human(g.total), strings.Join(where, ", "))
		if g.space.Free >= g.total {
			checks = append(checks, ok(name, detail, true))
			continue
		}
		fix := fmt.Sprintf("free %s on the filesystem of %s", human(g.total-g.space.Free), g.space.Measured)
		for _, d := range g.needs {
			if d.Fix != "" {
				fix += ", or move the " + d.Label + ": " + d.Fix
			}
		}
		checks = append(checks, fail(name, detail, fix, true))
	}
	return checks
}

func human(n uint64) string { return progress.Bytes(int64(n)) }
