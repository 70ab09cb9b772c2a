package guest

import (
	"bufio"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// etcd's guidance (its hardware documentation and `etcdctl check perf`'s
// fio recipe): sequential 2300-byte writes, each followed by fdatasync, over
// about 22 MiB; the disk suits etcd when the 99th percentile of fdatasync is
// below 10 ms.
const (
	ProbeWriteSize = 2300
	ProbeBytes     = 22 << 20
	GoodP99        = 10 * time.Millisecond
)

// ProbeOptions bound a probe: it stops after Count writes or MaxTime,
// whichever comes first, so a slow disk gives a bounded run.
type ProbeOptions struct {
	Count   int
	MaxTime time.Duration
	// Dir is where the probe file goes: the data disk's mount point.
	Dir string
	// Binary is the static lab binary carried to the nodes to run the
	// probe (LabBinary); "" is the running program (os.Executable),
	// which is right for bin/lab and wrong under go test.
	Binary string
}

// DefaultProbe is etcd's 22 MiB in 2300-byte writes, cut at 20 s.
func DefaultProbe() ProbeOptions {
	return ProbeOptions{Count: ProbeBytes / ProbeWriteSize, MaxTime: 20 * time.Second, Dir: DataDir}
}

// Probe is the run on a node: etcd's write size, these bounds.
func (o ProbeOptions) Probe() FsyncProbe {
	return FsyncProbe{Dir: o.Dir, Count: o.Count, MaxTime: o.MaxTime, Bytes: ProbeWriteSize}
}

// ProbeResult summarises one node's fdatasync latencies.
type ProbeResult struct {
	Node    string        `json:"node"`
	Writes  int           `json:"writes"`
	P50     time.Duration `json:"p50"`
	P99     time.Duration `json:"p99"`
	Max     time.Duration `json:"max"`
	Verdict string        `json:"verdict"`
	Good    bool          `json:"good"`
}

// ParseProbe reads the probe's output (FormatLatency lines) and
// computes the result.
func ParseProbe(node, out string) (ProbeResult, error) {
	var lat []time.Duration
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		us, err := strconv.ParseInt(line, 10, 64)
		if err != nil {
			return ProbeResult{}, fmt.Errorf("probe on %s printed %q, not a latency", node, line)
		}
		lat = append(lat, time.Duration(us)*time.Microsecond)
	}
	if len(lat) == 0 {
		return ProbeResult{}, fmt.Errorf("probe on %s measured nothing", node)
	}
	return Summarise(node, lat), nil
}

// Summarise computes percentiles (nearest rank) and the verdict.
func Summarise(node string, lat []time.Duration) ProbeResult {
	s := slices.Clone(lat)
	slices.Sort(s)
	r := ProbeResult{Node: node, Writes: len(s), P50: rank(s, 0.50), P99: rank(s, 0.99), Max: s[len(s)-1]}
	r.Good = r.P99 < GoodP99
	if r.Good {
		r.Verdict = fmt.Sprintf("good for etcd: p99 %s < %s", round(r.P99), GoodP99)
	} else {
		r.Verdict = fmt.Sprintf("too slow for etcd: p99 %s ≥ %s", round(r.P99), GoodP99)
	}
	return r
}

func rank(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d
}
