package slowdisk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/scenarios/measure"
	"github.com/kthw-lab/lab/scenarios/report"
)

// workloadRate is the steady client load of every arm: a small control
// plane's writes (DESIGN.md measured ~2 puts/s).
const workloadRate = 5

// arm runs one arm: wipe, profile, probe, bootstrap, observe, check perf,
// collect. The timeline starts when the members are started; measure
// turns what was observed into the arm's result.
func (r *runner) arm(ctx context.Context, a Arm) (report.Arm, error) {
	out := report.Arm{Name: a.Name, Description: a.Description, Profile: a.Profile, Expect: a.Expect, Evidence: a.Name,
		EtcdVersion: a.EtcdVersion, PreVoteOff: a.NoPreVote, TimeToFirstLeader: report.Never, PutP99: measure.None,
		WALFsyncMean: measure.None}
	env := armEnv{OwnEtcd: a.EtcdVersion != "", NoPreVote: a.NoPreVote}
	// Where the arm's time goes, step by step (measure.WallTimes).
	armStart, wall := time.Now(), measure.NoWallTimes
	timed := func(step *measure.Seconds, f func() error) error {
		t := time.Now()
		err := f()
		measure.Add(step, time.Since(t))
		return err
	}
	dir, err := r.evidenceDir(a)
	if err != nil {
		return out, err
	}
	profile, err := guest.ForName(a.Profile, fsyncFor(a.Profile, r.FsyncLatency))
	if err != nil {
		return out, err
	}
	// Probe with etcd stopped and the arm's profile in place. An arm with
	// given timeouts gets its unit now, once; a tuned arm's timeouts come
	// from the probe, so its unit is written again after it.
	heartbeat, election := a.Heartbeat, a.Election
	if a.Tuned {
		heartbeat, election = r.Lab.State.Plan.Etcd.HeartbeatInterval, r.Lab.State.Plan.Etcd.ElectionTimeout
	}
	if err := timed(&wall.Reset, func() error { return r.cl.reset(ctx, heartbeat, election, env) }); err != nil {
		return out, err
	}
	if a.EtcdVersion != "" {
		bin, ok := r.EtcdBinaries[a.EtcdVersion]
		if !ok {
			return out, fmt.Errorf("no etcd %s was given for the arm", a.EtcdVersion)
		}
		end := r.Progress.Start("%s: installing etcd %s on every node", a.Name, a.EtcdVersion)
		err := timed(&wall.EtcdInstall, func() error { return r.cl.installEtcd(ctx, bin.Path, bin.SHA256) })
		end(err)
		if err != nil {
			return out, err
		}
	}
	if err := timed(&wall.Profile, func() error { return r.setProfile(ctx, profile) }); err != nil {
		return out, err
	}
	var probes []guest.ProbeResult
	if err := timed(&wall.Probe, func() (err error) {
		probes, out.ProbeFrom, err = r.probeOnce(ctx, a.Name, dir, probeFor(a, r.Probe))
		return err
	}); err != nil {
		return out, err
	}
	p50, p99, pmax := worst(probes)
	out.FsyncP50, out.FsyncP99, out.FsyncMax = measure.Seconds(p50), measure.Seconds(p99), measure.Seconds(pmax)
	if a.Tuned {
		heartbeat, election = Tune(p99)
		out.TimeoutRule = TuneRule
	}
	out.Heartbeat, out.Election = measure.Seconds(heartbeat), measure.Seconds(election)
	r.Progress.Printf("  %s: fsync p50 %s p99 %s; heartbeat %s, election %s", a.Name,
		p50.Round(time.Millisecond), p99.Round(time.Millisecond), heartbeat, election)
	var offsets map[string]time.Duration
	if err := timed(&wall.Reset, func() (err error) {
		if a.Tuned {
			if err := r.cl.reset(ctx, heartbeat, election, env); err != nil {
				return err
			}
		}
		offsets, err = r.cl.clocks(ctx)
		return err
	}); err != nil {
		return out, err
	}

	obs, err := r.observe(ctx, a, &out, election, dir)
	if err != nil {
		return out, err
	}
	timed(&wall.Collect, func() error { r.collect(ctx, &obs, offsets, dir); return nil })
	w := obs.Windows
	wall.Bootstrap, wall.Observation = measure.Seconds(w.ObservationStart), measure.Seconds(w.ObservationEnd-w.ObservationStart)
	wall.CheckPerf, wall.Total = measure.Seconds(w.End-w.ObservationEnd), measure.Seconds(time.Since(armStart))
	out.WallTimes = wall
	return obs.Result(out), nil
}

func fsyncFor(profile string, fsync time.Duration) time.Duration {
	if profile == guest.SSD {
		return 0
	}
	return fsync
}

// FixedProbeTime bounds the probe of an arm whose timeouts are given
// rather than derived from it. Its figures only judge the disk against
// etcd's guidance (p99 ≤ 10 ms) and the control's health (≤ 200 ms), which
// a 1 s disk misses a hundredfold after its tenth write as after its
// thirtieth; the ssd profile's 300 writes take a few seconds and are done
// long before. A tuned arm probes for the full time: its timeouts are the
// probe's p99, and TuneRule promises at least 100 writes or 30 s.
const FixedProbeTime = 10 * time.Second

// probeFor is the probe of arm a: o, bounded by FixedProbeTime unless
// the arm derives its timeouts from it.
func probeFor(a Arm, o guest.ProbeOptions) guest.ProbeOptions {
	if !a.Tuned && o.MaxTime > FixedProbeTime {
		o.MaxTime = FixedProbeTime
	}
	return o
}

// probeOnce is r.probe, unless an earlier arm probed the disks with the
// same options on the profile they still have: then it is that probe
// (kept again as this arm's evidence), and from names that arm.
func (r *runner) probeOnce(ctx context.Context, arm, dir string, o guest.ProbeOptions) (results []guest.ProbeResult, from string, err error) {
	if p, ok := r.disk.probes[o]; ok {
		r.Progress.Printf("  %s: the disks' profile is unchanged since %s probed it: using that probe", arm, p.arm)
		return p.results, p.arm, writeJSON(filepath.Join(dir, "probe.json"), p.results)
	}
	results, err = r.probe(ctx, dir, o)
	if err == nil && r.disk.probes != nil {
		r.disk.probes[o] = probeRun{arm: arm, results: results}
	}
	return results, "", err
}

// probe measures every data disk with o and keeps the results as evidence.
func (r *runner) probe(ctx context.Context, dir string, o guest.ProbeOptions) ([]guest.ProbeResult, error) {
	var results []guest.ProbeResult
	err := r.backoff.retry(ctx, "probing the disks", func(ctx context.Context) error {
		var err error
		results, err = r.probeDisks(ctx, o)
		return err
	})
	if err != nil {
		return nil, err
	}
	return results, writeJSON(filepath.Join(dir, "probe.json"), results)
}

// worst is the slowest node's probe: the cluster waits for its slowest
// member's fsync in every vote and commit.
func worst(results []guest.ProbeResult) (p50, p99, maxLat time.Duration) {
	for _, p := range results {
		p50, p99, maxLat = max(p50, p.P50), max(p99, p.P99), max(maxLat, p.Max)
	}
	return p50, p99, maxLat
}

// observe starts the members together and watches them through every
// phase: status every second from the start; the workload from the first
// leader (or after FirstLeaderWait), for Duration; then check perf. Each
// member's /metrics is read at the end of the observation and at the end
// of check perf, and kept as evidence exactly as read.
func (r *runner) observe(ctx context.Context, a Arm, out *report.Arm, election time.Duration, dir string) (measure.Observation, error) {
	start := time.Now()
	obs := measure.Observation{Start: start}
	if err := r.cl.start(ctx); err != nil {
		return obs, err
	}
	// A member serves clients only once it has joined a cluster with a
	// leader, which may never happen (etcd 3.4 on the hdd profile): the
	// client connects in the background while the arm is observed.
	client := &lazyClient{dial: func() (*etcd.Client, error) { return etcd.New(ctx, r.etcdCfg) }}
	defer client.Close()
	sampleCtx, stopSampling := context.WithCancel(ctx)
	leader := make(chan struct{})
	var once sync.Once
	sampler := &measure.Sampler{Start: start, Names: r.names(), Status: func(ctx context.Context) ([]etcd.Status, error) {
		c, err := client.get()
		if err != nil {
			return nil, err
		}
		st, err := c.EndpointStatus(ctx)
		for _, s := range st {
			if s.Err == nil && s.Leader != 0 {
				once.Do(func() { close(leader) })
			}
		}
		return st, err
	}}
	timeline := make(chan measure.Timeline, 1)
	go func() { timeline <- sampler.Run(sampleCtx) }()

	select {
	case <-leader:
	case <-time.After(r.FirstLeaderWait):
		r.Progress.Printf("  %s: no leader after %s; observing anyway", a.Name, r.FirstLeaderWait)
	case <-ctx.Done():
	}
	r.Progress.Printf("  %s: observing for %s under %d puts/s", a.Name, r.Duration, workloadRate)
	obs.Metrics = make([]measure.MemberWindow, len(r.Lab.State.Plan.Nodes))
	for i, n := range r.Lab.State.Plan.Nodes {
		// Every member started fresh with the arm, its counters at zero:
		// the metrics' first window is the bootstrap and the observation,
		// for every arm alike (no Before, which a member that does not
		// serve yet could not give).
		obs.Metrics[i].Member = n.Name
	}
	obs.Windows.ObservationStart = time.Since(start)
	// CPU figures are a judgement aid, not the arm's purpose: an arm whose
	// guests cannot say goes on without them.
	cpuBefore, cpuErr := r.cl.cpu(ctx)
	w := measure.Workload{
		Rate: workloadRate, Start: start, KeyPrefix: "/lab/workload/" + a.Name + "/",
		Timeout: max(5*time.Second, 2*election),
		Put: func(ctx context.Context, key, value string) error {
			c, err := client.get()
			if err != nil {
				return err
			}
			_, err = c.V3().Put(ctx, key, value)
			return err
		},
	}
	wctx, stop := context.WithTimeout(ctx, r.Duration)
	obs.Requests = w.Run(wctx)
	stop()
	obs.Windows.ObservationEnd = time.Since(start)
	var elected bool
	select {
	case <-leader:
		elected = true
	default:
	}
	// The members of a cluster that never elected did not serve /metrics
	// (the threshold map's 3.4 cells waited out every retry, half a minute
	// a read): one attempt says so.
	mb := r.backoff
	if !elected {
		mb = backoff{Attempts: 1}
	}
	// The metrics first: their window should end with the observation's.
	r.eachMetrics(ctx, dir, "-observation", mb, func(i int, s measure.Snapshot) { obs.Metrics[i].After = s })
	if cpuErr == nil {
		out.CPU, cpuErr = cpuFigures(ctx, r.cl, cpuBefore)
	}
	if cpuErr != nil {
		r.Progress.Printf("  %s: CPU figures: %v", a.Name, cpuErr)
	}
	switch {
	case elected:
		r.checkPerf(ctx, out, dir)
	case r.CheckPerfDuration > 0:
		// check perf needs a leader to write through; on a cluster that
		// never elected one it can only time out (the story's 3.4 arm
		// spent 36 s doing so), and its result says "did not run" either way.
		r.Progress.Printf("  %s: no leader in the whole observation: check perf skipped", a.Name)
	}
	r.eachMetrics(ctx, dir, "", mb, func(i int, s measure.Snapshot) { obs.Metrics[i].End = s })
	obs.Windows.End = time.Since(start)
	stopSampling()
	obs.Timeline = <-timeline
	return obs, ctx.Err()
}

// eachMetrics reads every member's /metrics at once (a member that does
// not serve costs its retries once, not once per node), keeping each as
// metrics-NODE{suffix}.txt, and gives what node i said to set.
func (r *runner) eachMetrics(ctx context.Context, dir, suffix string, b backoff, set func(i int, s measure.Snapshot)) {
	var wg sync.WaitGroup
	snaps := make([]measure.Snapshot, len(r.Lab.State.Plan.Nodes))
	for i, n := range r.Lab.State.Plan.Nodes {
		wg.Go(func() {
			snaps[i] = r.metrics(ctx, b, n.Name, n.ClientURL, filepath.Join(dir, "metrics-"+n.Name+suffix+".txt"))
		})
	}
	wg.Wait()
	for i, s := range snaps {
		set(i, s)
	}
}

// metrics reads a member's /metrics, keeps the text at path as evidence
// and returns what it says; a zero Snapshot when it could not be read.
func (r *runner) metrics(ctx context.Context, b backoff, member, clientURL, path string) measure.Snapshot {
	client := measure.HTTPClient(r.etcdCfg.TLS, r.etcdCfg.Dial)
	var text []byte
	err := b.retry(ctx, "", func(ctx context.Context) error {
		var err error
		text, err = measure.FetchMetricsText(ctx, client, clientURL+"/metrics")
		return err
	})
	var snap measure.Snapshot
	if err == nil {
		os.WriteFile(path, text, 0o644)
		snap, err = measure.ParseMetrics(bytes.NewReader(text))
	}
	if err != nil {
		r.Progress.Printf("  metrics of %s: %v", member, err)
		return measure.Snapshot{}
	}
	return snap
}

// cpuFigures reads the guests' CPU counters again and the host's load:
// the largest steal share and guest load, and the host's load on its CPUs.
func cpuFigures(ctx context.Context, cl *cluster, before map[string]measure.CPUStat) (report.CPU, error) {
	after, err := cl.cpu(ctx)
	if err != nil {
		return report.CPU{}, err
	}
	out := report.CPU{Measured: true, HostCPUs: runtime.NumCPU()}
	for name, a := range after {
		out.Steal = max(out.Steal, measure.StealShare(before[name], a))
		out.GuestLoad = max(out.GuestLoad, a.Load1)
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			out.HostLoad, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	return out, nil
}

// lazyClient is the arm's etcd client, connected in the background while
// no member serves clients yet: a caller gets errNotServing at once rather
// than waiting for a dial.
type lazyClient struct {
	mu      sync.Mutex
	c       *etcd.Client
	dial    func() (*etcd.Client, error)
	dialing bool
	closed  bool
}

var errNotServing = errors.New("no member serves clients yet")

func (l *lazyClient) get() (*etcd.Client, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c != nil {
		return l.c, nil
	}
	if !l.dialing && !l.closed {
		l.dialing = true
		go func() {
			c, err := l.dial()
			l.mu.Lock()
			defer l.mu.Unlock()
			l.dialing = false
			switch {
			case err != nil:
			case l.closed:
				c.Close()
			default:
				l.c = c
			}
		}()
	}
	return nil, errNotServing
}

func (l *lazyClient) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.c != nil {
		l.c.Close()
		l.c = nil
	}
}

// checkPerf runs check perf on the arm's cluster as it is after the
// observation. A failure to run is recorded, not fatal: on the story's
// cluster it cannot even start.
func (r *runner) checkPerf(ctx context.Context, out *report.Arm, dir string) {
	if r.CheckPerfDuration <= 0 {
		return
	}
	end := r.Progress.Start("%s: check perf (%s)", out.Name, r.CheckPerfDuration)
	client, err := etcd.New(ctx, r.etcdCfg)
	if err != nil {
		end(err)
		return
	}
	defer client.Close()
	cctx, cancel := context.WithTimeout(ctx, r.CheckPerfDuration+time.Minute)
	defer cancel()
	res, err := client.CheckPerf(cctx, etcd.PerfOptions{Duration: r.CheckPerfDuration, Prefix: "/lab/check-perf/" + out.Name + "/"})
	end(err)
	if err != nil {
		out.CheckPerf.Ran = false
		return
	}
	out.CheckPerf = report.CheckPerf{Ran: true, Pass: res.Pass, Throughput: res.Throughput,
		Slowest: measure.Seconds(res.Slowest), Stddev: measure.Seconds(res.Stddev)}
	writeJSON(filepath.Join(dir, "check-perf.json"), res)
}

// collect reads every member's journal for the arm (counted per phase by
// measure) and keeps the evidence: journal, domain XML and console log.
func (r *runner) collect(ctx context.Context, obs *measure.Observation, offsets map[string]time.Duration, dir string) {
	// Every node at once: each is an SSH round trip and a journal read of
	// its own, and one slow guest should not make the others wait.
	events := make([][]measure.Event, len(r.Lab.State.Plan.Nodes))
	// The libvirt connection is opened lazily and not under a lock:
	// open it here, once, before the nodes share it.
	r.Lab.Libvirt(ctx)
	var wg sync.WaitGroup
	for i, n := range r.Lab.State.Plan.Nodes {
		wg.Go(func() { events[i] = r.collectNode(ctx, n, obs.Start, offsets[n.Name], dir) })
	}
	wg.Wait()
	for _, ev := range events {
		obs.Events = append(obs.Events, ev...)
	}
}

// collectNode reads one member's journal for the arm, its times placed on
// the arm's timeline, and keeps its evidence.
func (r *runner) collectNode(ctx context.Context, n spec.Node, start time.Time, offset time.Duration, dir string) []measure.Event {
	since := start.Add(offset).Add(-2 * time.Second)
	journal, err := r.cl.journal(ctx, n, since)
	if err != nil {
		r.Progress.Printf("  journal of %s: %v", n.Name, err)
	}
	os.WriteFile(filepath.Join(dir, "journal-"+n.Name+".log"), []byte(journal), 0o644)
	events, _ := measure.ParseJournal(strings.NewReader(journal))
	for i := range events {
		// Guest clocks differ from the host's: place lines on the
		// arm's timeline.
		if !events[i].Time.IsZero() {
			events[i].Time = events[i].Time.Add(-offset)
		}
	}
	if xml, err := r.domainXML(ctx, n.Domain); err == nil {
		os.WriteFile(filepath.Join(dir, "domain-"+n.Name+".xml"), []byte(xml), 0o644)
	}
	if console, err := os.ReadFile(r.Lab.Store.ConsoleLog(n.Name)); err == nil {
		os.WriteFile(filepath.Join(dir, "console-"+n.Name+".log"), tail(console, 256<<10), 0o644)
	}
	return events
}

func tail(b []byte, n int) []byte { return b[max(0, len(b)-n):] }

// names maps client URLs to node names, for the sampler.
func (r *runner) names() map[string]string {
	m := map[string]string{}
	for _, n := range r.Lab.State.Plan.Nodes {
		m[n.ClientURL] = n.Name
	}
	return m
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", filepath.Base(path), err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// domainXML is the domain's definition as libvirt has it now.
func (r *runner) domainXML(ctx context.Context, domain string) (string, error) {
	p, err := r.Lab.Libvirt(ctx)
	if err != nil {
		return "", err
	}
	return p.DomainXMLDesc(ctx, domain)
}
