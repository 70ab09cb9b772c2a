package main

import (
	"path/filepath"
	"slices"
	"time"

	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/lab/spec"
)

// The JSON lab prints follows one convention, the scenario report's: keys
// in snake_case, durations in seconds as numbers under a key ending in _s,
// lists printed as [] rather than null when empty. The views below turn the
// library's types into that shape where theirs differs; TestJSONGolden
// keeps every command's output to it.

// seconds is a duration as the JSON's seconds.
func seconds(d time.Duration) float64 { return d.Seconds() }

// orEmpty is s, or an empty list for nil: JSON's [] rather than null.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// probeJSON is one node of `lab disk probe -o json`.
type probeJSON struct {
	Node    string  `json:"node"`
	Writes  int     `json:"writes"`
	P50S    float64 `json:"p50_s"`
	P99S    float64 `json:"p99_s"`
	MaxS    float64 `json:"max_s"`
	Verdict string  `json:"verdict"`
	Good    bool    `json:"good"`
}

func newProbeJSON(results []guest.ProbeResult) []probeJSON {
	out := []probeJSON{}
	for _, r := range results {
		out = append(out, probeJSON{Node: r.Node, Writes: r.Writes, P50S: seconds(r.P50), P99S: seconds(r.P99),
			MaxS: seconds(r.Max), Verdict: r.Verdict, Good: r.Good})
	}
	return out
}

// statusJSON is `lab status -o json`.
type statusJSON struct {
	Lab      string           `json:"lab"`
	Phase    string           `json:"phase"`
	Accel    string           `json:"accel"`
	Etcd     string           `json:"etcd"`
	Nodes    []nodeStatusJSON `json:"nodes"`
	Degraded []string         `json:"degraded"`
	// Boot is shown with -v.
	Boot *bootJSON `json:"boot,omitempty"`
}

// bootJSON is the boot timeline of `lab status -v -o json`: seconds from
// the domains' start.
type bootJSON struct {
	Started time.Time      `json:"started"`
	Quorum  float64        `json:"quorum_s"`
	Nodes   []nodeBootJSON `json:"nodes"`
}

type nodeBootJSON struct {
	Node      string   `json:"node"`
	Ready     *float64 `json:"ready_s"`
	SSH       float64  `json:"ssh_s"`
	CloudInit float64  `json:"cloud_init_s"`
}

func newBootJSON(b *lab.BootTimeline) *bootJSON {
	v := &bootJSON{Started: b.Started, Quorum: b.Quorum.Seconds(), Nodes: []nodeBootJSON{}}
	for _, n := range b.Nodes {
		nb := nodeBootJSON{Node: n.Node, SSH: n.SSH.Seconds(), CloudInit: n.CloudInit.Seconds()}
		if n.Ready > 0 {
			r := n.Ready.Seconds()
			nb.Ready = &r
		}
		v.Nodes = append(v.Nodes, nb)
	}
	return v
}

type nodeStatusJSON struct {
	Node     string `json:"node"`
	Domain   string `json:"domain"`
	State    string `json:"state"`
	Address  string `json:"address"`
	DataPool string `json:"data_pool"`
	Member   string `json:"member,omitempty"`
	Leader   bool   `json:"leader"`
	RaftTerm uint64 `json:"raft_term,omitempty"`
	Healthy  bool   `json:"healthy"`
	Error    string `json:"error,omitempty"`
}

func newStatusJSON(r *lab.Overview, verbose bool) statusJSON {
	v := statusJSON{Lab: r.Lab, Phase: string(r.Phase), Accel: r.Accel, Etcd: r.Etcd,
		Nodes: []nodeStatusJSON{}, Degraded: orEmpty(r.Degraded)}
	for _, n := range r.Nodes {
		m := ""
		if n.Member != 0 {
			m = n.Member.String()
		}
		v.Nodes = append(v.Nodes, nodeStatusJSON{Node: n.Node, Domain: n.Domain, State: string(n.State),
			Address: n.Address, DataPool: n.DataPool, Member: m, Leader: n.Leader, RaftTerm: n.Term,
			Healthy: n.Healthy, Error: n.Error})
	}
	if verbose && r.Boot != nil {
		v.Boot = newBootJSON(r.Boot)
	}
	return v
}

// binariesJSON is a set of etcd binaries: `lab etcd build|fetch|list -o json`.
type binariesJSON struct {
	Version  string            `json:"version"`
	Etcd     string            `json:"etcd"`
	Etcdctl  string            `json:"etcdctl"`
	Source   string            `json:"source"`
	SHA256   map[string]string `json:"sha256"`
	CacheDir string            `json:"cache_dir,omitempty"`
	Origin   string            `json:"origin,omitempty"`
	Detail   string            `json:"detail,omitempty"`
}

func newBinariesJSON(b etcdbin.Binaries) binariesJSON {
	sums := b.SHA256
	if sums == nil {
		sums = map[string]string{}
	}
	return binariesJSON{Version: b.Version, Etcd: b.Etcd, Etcdctl: b.Etcdctl, Source: b.Source, SHA256: sums, CacheDir: b.CacheDir}
}

func newCachedJSON(list []etcdbin.Cached) []binariesJSON {
	out := []binariesJSON{}
	for _, c := range list {
		v := newBinariesJSON(c.Binaries)
		v.Origin, v.Detail = c.Origin, c.Detail
		out = append(out, v)
	}
	return out
}

// renderJSON is `lab render -o json`: where each node's files went.
type renderJSON struct {
	Lab   string           `json:"lab"`
	Dir   string           `json:"dir"`
	Nodes []renderNodeJSON `json:"nodes"`
}

type renderNodeJSON struct {
	Node    string   `json:"node"`
	Address string   `json:"address"`
	Dir     string   `json:"dir"`
	Files   []string `json:"files"`
}

// diskSetJSON is `lab disk set -o json`: the profile and, per node,
// whether it was applied or why not.
type diskSetJSON struct {
	Lab         string            `json:"lab"`
	Profile     string            `json:"profile"`
	WriteDelayS float64           `json:"write_delay_s"`
	FlushDelayS float64           `json:"flush_delay_s"`
	Nodes       []diskSetNodeJSON `json:"nodes"`
}

type diskSetNodeJSON struct {
	Node    string `json:"node"`
	Applied bool   `json:"applied"`
	Skipped string `json:"skipped,omitempty"`
}

// newDiskSetJSON is the result of setting p on the nodes asked for
// (named), of which applied got it; the others were skipped (a real HDD).
func newDiskSetJSON(labName string, p guest.Profile, named, applied []spec.Node) diskSetJSON {
	v := diskSetJSON{Lab: labName, Profile: p.Name, WriteDelayS: seconds(p.WriteDelay),
		FlushDelayS: seconds(p.FlushDelay), Nodes: []diskSetNodeJSON{}}
	for _, n := range named {
		r := diskSetNodeJSON{Node: n.Name, Applied: slices.ContainsFunc(applied, func(a spec.Node) bool { return a.Name == n.Name })}
		if !r.Applied {
			r.Skipped = "data disk is on a real HDD (--emulate to add the emulation anyway)"
		}
		v.Nodes = append(v.Nodes, r)
	}
	return v
}

// newRenderJSON lists the files lab render wrote per node into dir.
func newRenderJSON(labName, dir string, seeds []lab.NodeSeed) renderJSON {
	v := renderJSON{Lab: labName, Dir: dir, Nodes: []renderNodeJSON{}}
	for _, s := range seeds {
		v.Nodes = append(v.Nodes, renderNodeJSON{Node: s.Node.Name, Address: s.Node.IP.String(),
			Dir: filepath.Join(dir, s.Node.Name), Files: slices.Clone(renderedFiles)})
	}
	return v
}

// renderedFiles are the files lab render writes in each node's directory.
var renderedFiles = []string{"user-data", "meta-data", "network-config", "etcd.service", "seed.iso"}

// destroyJSON is `lab destroy -o json`.
type destroyJSON struct {
	Lab       string `json:"lab"`
	Destroyed bool   `json:"destroyed"`
}
