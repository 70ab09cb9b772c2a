package slowdisk

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kthw-lab/lab/lab/disk"
	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/scenarios/measure"
	"github.com/kthw-lab/lab/scenarios/report"
)

// workloadRate is the steady client load of every arm: a small control
// plane's writes (DESIGN.md measured ~2 puts/s).
const workloadRate = 5

// arm runs one arm: wipe, profile, probe, bootstrap, observe, check perf,
// collect. The timeline starts when the members are started.
func (r *runner) arm(ctx context.Context, a Arm) (report.Arm, error) {
	out := report.Arm{Name: a.Name, Description: a.Description, Profile: a.Profile, Expect: a.Expect, Evidence: a.Name,
		EtcdVersion: a.EtcdVersion, PreVoteOff: a.NoPreVote}
	env := armEnv{OwnEtcd: a.EtcdVersion != "", NoPreVote: a.NoPreVote}
	dir, err := r.evidenceDir(a)
	if err != nil {
		return out, err
	}
	profile, err := disk.ForName(a.Profile, fsyncFor(a.Profile, r.FsyncLatency))
	if err != nil {
		return out, err
	}
	// Probe with etcd stopped and the arm's profile in place.
	if err := r.cl.reset(ctx, r.Lab.State.Plan.Etcd.HeartbeatInterval, r.Lab.State.Plan.Etcd.ElectionTimeout, env); err != nil {
		return out, err
	}
	if a.EtcdVersion != "" {
		bin, ok := r.EtcdBinaries[a.EtcdVersion]
		if !ok {
			return out, fmt.Errorf("no etcd %s was given for the arm", a.EtcdVersion)
		}
		end := r.Status.Start("%s: installing etcd %s on every node", a.Name, a.EtcdVersion)
		err := r.cl.installEtcd(ctx, bin.Path, bin.SHA256)
		end(err)
		if err != nil {
			return out, err
		}
	}
	if err := r.setProfile(ctx, profile); err != nil {
		return out, err
	}
	probes, err := r.probe(ctx, dir)
	if err != nil {
		return out, err
	}
	out.FsyncP50, out.FsyncP99, out.FsyncMax = worst(probes)
	out.Heartbeat, out.Election = a.Heartbeat, a.Election
	if a.Tuned {
		out.Heartbeat, out.Election = Tune(out.FsyncP99)
		out.TimeoutRule = TuneRule
	}
	r.Status.Printf("  %s: fsync p50 %s p99 %s; heartbeat %s, election %s", a.Name,
		out.FsyncP50.Round(time.Millisecond), out.FsyncP99.Round(time.Millisecond), out.Heartbeat, out.Election)
	if err := r.cl.reset(ctx, out.Heartbeat, out.Election, env); err != nil {
		return out, err
	}
	offsets, err := r.cl.clocks(ctx)
	if err != nil {
		return out, err
	}

	obs, cpu, err := r.observe(ctx, a, out.Election)
	if err != nil {
		return out, err
	}
	out.CPU = cpu
	r.checkPerf(ctx, &out, dir)
	obs.Windows.End = time.Since(obs.Start)
	r.collect(ctx, &obs, offsets, dir)
	fill(&out, obs)
	return out, writeJSON(filepath.Join(dir, "results.json"), obs.Results())
}

func fsyncFor(profile string, fsync time.Duration) time.Duration {
	if profile == disk.SSD {
		return 0
	}
	return fsync
}

// probe measures every data disk and keeps the results as evidence.
func (r *runner) probe(ctx context.Context, dir string) ([]disk.ProbeResult, error) {
	var results []disk.ProbeResult
	err := r.backoff.retry(ctx, "probing the disks", func(ctx context.Context) error {
		var err error
		results, err = r.Lab.ProbeDisks(ctx, r.Lab.State.Plan.Nodes, r.Probe)
		return err
	})
	if err != nil {
		return nil, err
	}
	return results, writeJSON(filepath.Join(dir, "probe.json"), results)
}

// worst is the slowest node's probe: the cluster waits for its slowest
// member's fsync in every vote and commit.
func worst(results []disk.ProbeResult) (p50, p99, maxLat time.Duration) {
	for _, p := range results {
		p50, p99, maxLat = max(p50, p.P50), max(p99, p.P99), max(maxLat, p.Max)
	}
	return p50, p99, maxLat
}

// observe starts the members together and watches them: status every
// second from the start, the workload from the first leader (or after
// FirstLeaderWait), for Duration.
func (r *runner) observe(ctx context.Context, a Arm, election time.Duration) (measure.Observation, report.CPU, error) {
	start := time.Now()
	obs := measure.Observation{Arm: a.Name, Start: start}
	var cpu report.CPU
	if err := r.cl.start(ctx); err != nil {
		return obs, cpu, err
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
		r.Status.Printf("  %s: no leader after %s; observing anyway", a.Name, r.FirstLeaderWait)
	case <-ctx.Done():
	}
	r.Status.Printf("  %s: observing for %s under %d puts/s", a.Name, r.Duration, workloadRate)
	metricsClient := measure.HTTPClient(r.etcdCfg.TLS, r.etcdCfg.Dial)
	obs.Metrics = make([]measure.MemberWindow, len(r.Lab.State.Plan.Nodes))
	for i, n := range r.Lab.State.Plan.Nodes {
		// Every member started fresh with the arm, its counters at zero:
		// the metrics' window is the bootstrap and the observation, for
		// every arm alike (no Before, which a member that does not serve
		// yet could not give).
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
	obs.Workload = w
	wctx, stop := context.WithTimeout(ctx, r.Duration)
	obs.Requests = w.Run(wctx)
	stop()
	stopSampling()
	obs.Timeline = <-timeline
	obs.Window = time.Since(start)
	obs.Windows.ObservationEnd = obs.Window
	if cpuErr == nil {
		cpu, cpuErr = cpuFigures(ctx, r.cl, cpuBefore)
	}
	if cpuErr != nil {
		r.Status.Printf("  %s: CPU figures: %v", a.Name, cpuErr)
	}
	for i, n := range r.Lab.State.Plan.Nodes {
		var after measure.Snapshot
		err := r.backoff.retry(ctx, "", func(ctx context.Context) error {
			var err error
			after, err = measure.FetchMetrics(ctx, metricsClient, n.ClientURL+"/metrics")
			return err
		})
		if err != nil {
			r.Status.Printf("  %s: metrics of %s: %v", a.Name, n.Name, err)
			continue
		}
		obs.Metrics[i].After = after
	}
	return obs, cpu, ctx.Err()
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
	end := r.Status.Start("%s: check perf (%s)", out.Name, r.CheckPerfDuration)
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
	out.CheckPerf = report.CheckPerf{Ran: true, Pass: res.Pass, Throughput: res.Throughput, Slowest: res.Slowest, Stddev: res.Stddev}
	writeJSON(filepath.Join(dir, "check-perf.json"), res)
}

// collect reads every member's journal for the arm and keeps the evidence:
// journal, metrics, domain XML and console log.
func (r *runner) collect(ctx context.Context, obs *measure.Observation, offsets map[string]time.Duration, dir string) {
	metricsClient := measure.HTTPClient(r.etcdCfg.TLS, r.etcdCfg.Dial)
	for _, n := range r.Lab.State.Plan.Nodes {
		since := obs.Start.Add(offsets[n.Name]).Add(-2 * time.Second)
		journal, err := r.cl.journal(ctx, n, since)
		if err != nil {
			r.Status.Printf("  journal of %s: %v", n.Name, err)
		}
		os.WriteFile(filepath.Join(dir, "journal-"+n.Name+".log"), []byte(journal), 0o644)
		events, _ := measure.ParseJournal(strings.NewReader(journal))
		for i := range events {
			// Guest clocks differ from the host's: place lines on the
			// arm's timeline.
			if !events[i].Time.IsZero() {
				events[i].Time = events[i].Time.Add(-offsets[n.Name])
			}
		}
		obs.Events = append(obs.Events, events...)
		if text, err := measure.FetchMetricsText(ctx, metricsClient, n.ClientURL+"/metrics"); err == nil {
			os.WriteFile(filepath.Join(dir, "metrics-"+n.Name+".txt"), text, 0o644)
		}
		if xml, err := r.domainXML(ctx, n.Domain); err == nil {
			os.WriteFile(filepath.Join(dir, "domain-"+n.Name+".xml"), []byte(xml), 0o644)
		}
		if console, err := os.ReadFile(r.Lab.Store.ConsoleLog(n.Name)); err == nil {
			os.WriteFile(filepath.Join(dir, "console-"+n.Name+".log"), tail(console, 256<<10), 0o644)
		}
	}
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

// fill turns the observation into the report's arm. Each figure comes
// from the one function in measure that defines it, so report.json and
// results.json agree.
func fill(out *report.Arm, obs measure.Observation) {
	tl := obs.Timeline
	out.TimeWithoutLeader = tl.TimeWithoutLeader()
	if d, ok := tl.TimeToFirstLeader(); ok {
		out.TimeToFirstLeader = d
	} else {
		// Never elected: the whole arm went without one, also before the
		// sampler could ask anybody.
		out.TimeToFirstLeader = report.Never
		out.TimeWithoutLeader = max(out.TimeWithoutLeader, obs.Window)
	}
	out.LeaderChanges = tl.LeaderChanges()
	out.MaxTerm = tl.MaxTerm()
	out.Phases = report.Phases{ObservationStart: obs.Windows.ObservationStart,
		ObservationEnd: obs.Windows.ObservationEnd, End: obs.Windows.End}
	ids := map[etcd.MemberID]string{}
	for _, s := range flatten(tl) {
		if s.Err == nil && s.ID != 0 {
			ids[s.ID] = s.Member
		}
	}
	for _, s := range flatten(tl) {
		if s.Err != nil {
			continue
		}
		sample := report.Sample{At: s.At, Member: s.Member, Term: s.Term}
		if s.Leader != 0 {
			sample.Leader = cmp.Or(ids[s.Leader], s.Leader.String())
		}
		out.Samples = append(out.Samples, sample)
	}
	var wal measure.Histogram
	for _, m := range obs.Metrics {
		d := m.After.Delta(m.Before)
		out.HeartbeatFailures += int(d.HeartbeatSendFailures)
		wal, _ = wal.Add(d.WALFsync) // all members export the same buckets
	}
	for _, b := range wal.Buckets {
		out.FsyncBuckets = append(out.FsyncBuckets, report.Bucket{UpperBound: b.UpperBound, Count: float64(b.Count)})
	}
	if len(wal.Buckets) > 0 {
		out.FsyncBuckets = append(out.FsyncBuckets, report.Bucket{UpperBound: math.Inf(1), Count: float64(wal.Count)})
	}
	out.WALFsyncMean = seconds(wal.Mean())
	out.WALFsyncP50Le, out.WALFsyncP99Le = wal.QuantileBound(0.5), wal.QuantileBound(0.99)
	counts := measure.CountByPhase(obs.Events, obs.Start, obs.Windows)
	perPhase := func(k measure.Kind) report.PhaseCounts {
		return report.PhaseCounts{Bootstrap: counts[measure.PhaseBootstrap][k],
			Observation: counts[measure.PhaseObservation][k], CheckPerf: counts[measure.PhaseCheckPerf][k]}
	}
	out.ElectionsByPhase = perPhase(measure.ElectionStart)
	out.Elections = out.ElectionsByPhase.Total()
	out.PreVotes, out.Votes = perPhase(measure.PreVoteCampaign), perPhase(measure.VoteCampaign)
	out.SlowFsyncByPhase = perPhase(measure.SlowFsync)
	out.SlowFsyncLines = out.SlowFsyncByPhase.Total()
	stats := obs.Requests.Stats()
	out.PutCount, out.PutErrors, out.PutP99 = stats.Count, stats.Errors, stats.P99
}

func flatten(tl measure.Timeline) []measure.Sample {
	var out []measure.Sample
	for _, round := range tl.Rounds() {
		out = append(out, round...)
	}
	return out
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

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
