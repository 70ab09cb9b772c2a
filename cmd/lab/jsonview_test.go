package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/kthw-lab/lab/internal/golden"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/doctor"
	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/scenarios"
)

// jsonOutputs are, per command, what it prints with -o json, built from
// fakes of what libvirt, etcd and the guests would report, through the same
// functions the commands call.
func jsonOutputs(t *testing.T) map[string]any {
	t.Helper()
	hdd, err := guest.ForName("hdd", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	n0 := spec.Node{Name: "k8smaster0", IP: netip.MustParseAddr("192.168.199.200")}
	n1 := spec.Node{Name: "k8smaster1", IP: netip.MustParseAddr("192.168.199.201")}
	created := time.Date(2026, 11, 29, 21, 0, 0, 0, time.UTC)
	bins := etcdbin.Binaries{Version: "v3.6.16", Etcd: "/var/cache/lab/etcd/x/etcd", Etcdctl: "/var/cache/lab/etcd/x/etcdctl",
		Source: etcdbin.SourceBuilt, SHA256: map[string]string{"etcd": "ab12", "etcdctl": "cd34"}, CacheDir: "/var/cache/lab/etcd/x"}
	return map[string]any{
		"check_perf": &etcd.PerfResult{Load: "s", Prefix: "/lab-check-perf/", Requests: 9000, Errors: 0,
			Throughput: 150.2, Slowest: 412 * time.Millisecond, Average: 8 * time.Millisecond, Stddev: 21 * time.Millisecond,
			Elapsed: 60 * time.Second, Deleted: 9000, Checks: []etcd.PerfCheck{{Name: "throughput", Pass: true, Line: "PASS: Throughput is 150 writes/s"},
				{Name: "slowest", Pass: true}}, Pass: true},
		"disk_probe": newProbeJSON([]guest.ProbeResult{
			{Node: "k8smaster0", Writes: 2200, P50: 1500 * time.Microsecond, P99: 4 * time.Millisecond, Max: 9 * time.Millisecond, Verdict: "good for etcd: p99 4.00ms < 10ms", Good: true},
			{Node: "k8smaster1", Writes: 40, P50: 1020 * time.Millisecond, P99: 1100 * time.Millisecond, Max: 1200 * time.Millisecond, Verdict: "too slow for etcd"}}),
		"status_verbose": newStatusJSON(&lab.Overview{Lab: "kthw", Phase: "ready", Accel: "tcg", Etcd: "v3.6.16",
			Nodes: []lab.NodeOverview{{Node: "k8smaster0", Domain: "kthw-k8smaster0", State: "running", Address: "192.168.199.200", DataPool: "ssd", Member: 1, Leader: true, Term: 2, Healthy: true}},
			Boot: &lab.BootTimeline{Started: created, Quorum: 83600 * time.Millisecond,
				Nodes: []lab.NodeBoot{{Node: "k8smaster0", Ready: 61 * time.Second, SSH: 70500 * time.Millisecond, CloudInit: 74 * time.Second}}}}, true),
		"status": newStatusJSON(&lab.Overview{Lab: "kthw", Phase: "ready", Accel: "tcg", Etcd: "v3.6.16",
			Nodes: []lab.NodeOverview{
				{Node: "k8smaster0", Domain: "kthw-k8smaster0", State: "running", Address: "192.168.199.200", DataPool: "ssd", Member: 0x8e9e05c52164694d, Leader: true, Term: 2, Healthy: true},
				{Node: "k8smaster1", Domain: "kthw-k8smaster1", State: "shutoff", Address: "192.168.199.201", DataPool: "hdd", Error: "dial tcp 192.168.199.201:2379: connect: no route to host"}},
			Degraded: []string{"k8smaster1: domain shutoff"}}, false),
		"status_healthy": newStatusJSON(&lab.Overview{Lab: "kthw", Phase: "ready", Accel: "kvm", Etcd: "v3.6.16",
			Nodes: []lab.NodeOverview{{Node: "k8smaster0", Domain: "kthw-k8smaster0", State: "running", Address: "192.168.199.200", DataPool: "ssd", Member: 1, Leader: true, Term: 2, Healthy: true}}}, false),
		"create_members": etcd.MemberList{{ID: 0x8e9e05c52164694d, Name: "k8smaster0", PeerURLs: []string{"https://192.168.199.200:2380"},
			ClientURLs: []string{"https://192.168.199.200:2379"}, Status: "started"}},
		"etcd_build":      newBinariesJSON(bins),
		"etcd_list":       newCachedJSON([]etcdbin.Cached{{Binaries: bins, Origin: "built", Detail: "go1.26"}}),
		"etcd_list_empty": newCachedJSON(nil),
		"render":          newRenderJSON("kthw", "rendered", []lab.NodeSeed{{Node: n0}, {Node: n1}}),
		"disk_set":        newDiskSetJSON("kthw", hdd, []spec.Node{n0, n1}, []spec.Node{n0}),
		"destroy":         destroyJSON{Lab: "kthw", Destroyed: true},
		"doctor": doctor.Checkup{Checks: []doctor.Check{{Name: "libvirt socket", Verdict: doctor.OK, Detail: "/run/libvirt/libvirt-sock", Required: true},
			{Name: "kvm", Verdict: doctor.Warn, Detail: "no /dev/kvm", Fix: "use --accel tcg"}}},
		"list": []lab.LabSummary{{Name: "kthw", State: true, Phase: "ready", Domains: []string{"kthw-k8smaster0"}, Networks: []string{"lab-kthw"},
			Pools: []string{"lab-kthw-ssd"}, Volumes: []string{"kthw-k8smaster0-os.qcow2"}}},
		"export":        lab.Exported{Dir: "evidence", Files: []lab.ExportFile{{File: "state.json", Bytes: 812}, {File: "k8smaster1/journal-etcd.txt", Error: "node down"}}},
		"image_list":    []images.Image{{Name: "debian-12", Source: "deb.debian.org bookworm", Boot: images.BootKernel, Disk: "/var/cache/lab/images/x/disk.qcow2", Size: 512 << 20, Digest: "sha256:ab12", Created: created}},
		"version":       lab.BuildInfo{Lab: "v1.2.3", Commit: "a162a9a", Go: "go1.26.8", Etcd: "v3.6.16"},
		"env":           map[string]string{"ETCDCTL_API": "3", "ETCDCTL_ENDPOINTS": "https://192.168.199.200:2379"},
		"scenario_list": scenarios.List(),
	}
}

// TestJSONGolden compares every command's JSON with its golden file
// (go test ./cmd/lab -run TestJSONGolden -update rewrites them) and holds
// all of it to one convention: snake_case keys, durations in seconds under
// keys ending in _s (a duration key without it fails), [] not null.
func TestJSONGolden(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	// Maps whose keys are data, not field names.
	dataKeys := map[string]bool{"sha256": true, "metadata": true, "error_dist": true}
	unitless := regexp.MustCompile(`^(slowest|average|stddev|elapsed|p50|p99|max|duration|latency|delay|write_delay|flush_delay|fsync_latency)$`)
	outputs := jsonOutputs(t)
	names := make([]string, 0, len(outputs))
	for name := range outputs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			g := &globals{streams: streams{out: &buf}}
			if err := g.printJSON(outputs[name]); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			golden.Check(t, filepath.Join("testdata", name+".golden.json"), got)
			if name == "env" {
				return // its keys are the variables' names
			}
			var v any
			if err := json.Unmarshal(got, &v); err != nil {
				t.Fatal(err)
			}
			var walk func(at string, v any)
			walk = func(at string, v any) {
				switch v := v.(type) {
				case nil:
					t.Errorf("%s: null, want a value or [] ", at)
				case map[string]any:
					for k, x := range v {
						if !snake.MatchString(k) {
							t.Errorf("%s: key %q is not snake_case", at, k)
						}
						if unitless.MatchString(k) {
							t.Errorf("%s: key %q is a duration without _s", at, k)
						}
						if !dataKeys[k] {
							walk(at+"."+k, x)
						}
					}
				case []any:
					for _, x := range v {
						walk(at+"[]", x)
					}
				}
			}
			walk(name, v)
		})
	}
}
