package etcd

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/time/rate"
)

// DefaultPerfPrefix is where check perf writes its keys, as in etcdctl.
const DefaultPerfPrefix = "/etcdctl-check-perf/"

// PerfLoad is one of etcdctl check perf's workload models: Clients
// connections put keys of KeySize bytes with values of ValueSize bytes,
// Limit writes per second in total, for Duration.
type PerfLoad struct {
	Name      string        `json:"name"`
	Clients   int           `json:"clients"`
	Limit     int           `json:"limit"`
	KeySize   int           `json:"keySize"`
	ValueSize int           `json:"valueSize"`
	Duration  time.Duration `json:"duration"`
}

// The numbers of etcdctl v3.6.16 (ctlv3/command/check.go: checkPerfCfgMap,
// and the key and value sizes it hard-codes for every load).
const (
	perfKeySize   = 256
	perfValueSize = 1024
	perfDuration  = 60 * time.Second
)

// PerfLoads returns the loads etcdctl offers, smallest first.
func PerfLoads() []PerfLoad {
	load := func(name string, limit, clients int) PerfLoad {
		return PerfLoad{Name: name, Clients: clients, Limit: limit, KeySize: perfKeySize, ValueSize: perfValueSize, Duration: perfDuration}
	}
	return []PerfLoad{
		load("s", 150, 50),
		load("m", 1000, 200),
		load("l", 8000, 500),
		load("xl", 15000, 1000),
	}
}

// perfAliases are the long names etcdctl also accepts.
var perfAliases = map[string]string{"small": "s", "medium": "m", "large": "l", "xLarge": "xl"}

// LookupPerfLoad returns the load called name: s, m, l or xl, or etcdctl's
// long forms small, medium, large and xLarge.
func LookupPerfLoad(name string) (PerfLoad, error) {
	if short, ok := perfAliases[name]; ok {
		name = short
	}
	var names []string
	for _, l := range PerfLoads() {
		if l.Name == name {
			return l, nil
		}
		names = append(names, l.Name)
	}
	return PerfLoad{}, fmt.Errorf("unknown check perf load %q: use one of %s", name, strings.Join(names, ", "))
}

// ErrPrefixHasKeys is why CheckPerf refuses to run: it deletes everything
// under its prefix afterwards, so it will not write where keys already are.
var ErrPrefixHasKeys = errors.New("prefix already has keys")

// PerfOptions says how to run CheckPerf.
type PerfOptions struct {
	// Load is the workload model; LookupPerfLoad("s") if zero.
	Load PerfLoad
	// Prefix is where the keys go; DefaultPerfPrefix if empty.
	Prefix string
	// Duration overrides Load.Duration (etcdctl's 60 s) for shorter runs.
	// Throughput is still judged against Load.Limit, but slowest request
	// and stddev from a short run are not comparable with etcdctl's.
	Duration time.Duration
	// Progress, if set, is called once a second with the seconds done and
	// the seconds the run takes, and once more at the end with done = total.
	Progress func(done, total int)
	// Now is the clock, time.Now if nil.
	Now func() time.Time
}

// PerfResult is the outcome of a check perf run and its verdict. Its JSON
// is lab's (MarshalJSON), what `lab check perf -o json` prints.
type PerfResult struct {
	Load   string
	Prefix string
	// Requests counts the puts sent, Errors those that failed.
	Requests int
	Errors   int
	// ErrorDist counts failed puts by error message.
	ErrorDist map[string]int
	// Throughput is successful puts per second of Elapsed.
	Throughput float64
	// Slowest, Average and Stddev are over successful puts; Stddev is the
	// population standard deviation, as etcd's report package computes it.
	Slowest time.Duration
	Average time.Duration
	Stddev  time.Duration
	// Elapsed runs from the first put to the end of the last one.
	Elapsed time.Duration
	// Deleted counts the keys removed afterwards; CleanupError says why
	// removing them failed, if it did (etcdctl reports that but does not
	// fail the check for it).
	Deleted      int64
	CleanupError string
	Checks       []PerfCheck
	Pass         bool
}

// perfJSON is a PerfResult in lab's JSON convention (the scenario
// report's): snake_case keys, durations in seconds under keys ending in _s,
// [] rather than null for no checks.
type perfJSON struct {
	Load         string         `json:"load"`
	Prefix       string         `json:"prefix,omitempty"`
	Requests     int            `json:"requests"`
	Errors       int            `json:"errors"`
	ErrorDist    map[string]int `json:"error_dist,omitempty"`
	Throughput   float64        `json:"throughput"`
	SlowestS     float64        `json:"slowest_s"`
	AverageS     float64        `json:"average_s"`
	StddevS      float64        `json:"stddev_s"`
	ElapsedS     float64        `json:"elapsed_s"`
	Deleted      int64          `json:"deleted"`
	CleanupError string         `json:"cleanup_error,omitempty"`
	Checks       []PerfCheck    `json:"checks"`
	Pass         bool           `json:"pass"`
}

// MarshalJSON writes r in lab's JSON convention (perfJSON).
func (r PerfResult) MarshalJSON() ([]byte, error) {
	checks := r.Checks
	if checks == nil {
		checks = []PerfCheck{}
	}
	return marshalJSON(perfJSON{
		Load: r.Load, Prefix: r.Prefix, Requests: r.Requests, Errors: r.Errors, ErrorDist: r.ErrorDist,
		Throughput: r.Throughput, SlowestS: r.Slowest.Seconds(), AverageS: r.Average.Seconds(),
		StddevS: r.Stddev.Seconds(), ElapsedS: r.Elapsed.Seconds(), Deleted: r.Deleted,
		CleanupError: r.CleanupError, Checks: checks, Pass: r.Pass,
	})
}

// PerfCheck is one pass rule and the line etcdctl prints for it.
type PerfCheck struct {
	Name string `json:"name"`
	Pass bool   `json:"pass"`
	// Line is what etcdctl prints; empty for an errors check that passed,
	// for which etcdctl prints nothing. It may hold several lines.
	Line string `json:"line,omitempty"`
}

// Lines returns what etcdctl check perf prints after its run, in its order:
// a cleanup failure, the check lines, and PASS or FAIL.
func (r PerfResult) Lines() []string {
	var lines []string
	if r.CleanupError != "" {
		lines = append(lines, fmt.Sprintf("FAIL: Cleanup failed during key deletion: ERROR(%s)", r.CleanupError))
	}
	for _, c := range r.Checks {
		if c.Line != "" {
			lines = append(lines, strings.Split(c.Line, "\n")...)
		}
	}
	if r.Pass {
		return append(lines, "PASS")
	}
	return append(lines, "FAIL")
}

// WriteText writes the result as etcdctl check perf prints it: Lines, one
// to a line.
func (r PerfResult) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, line := range r.Lines() {
		b.WriteString(line + "\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the check perf result: %w", err)
	}
	return nil
}

// Judge applies etcdctl's pass rules to a run's successful put latencies
// and its errors by message: no errors; throughput above 90 % of the
// load's limit; slowest put at most 0.5 s; stddev at most 0.1 s. The lines
// are etcdctl's, word for word, including its quirks: the throughput shown
// is int(rate)+1, and the slowest and stddev failures have no "FAIL:".
// Average and stddev of no latencies are 0 (etcdctl would show NaN).
func Judge(latencies []time.Duration, errs map[string]int, load PerfLoad, elapsed time.Duration) PerfResult {
	r := PerfResult{Load: load.Name, Elapsed: elapsed, Requests: len(latencies)}
	var slowest, sum float64
	for _, l := range latencies {
		s := l.Seconds()
		sum += s
		slowest = max(slowest, s)
	}
	var avg, stddev, rps float64
	if n := float64(len(latencies)); n > 0 {
		avg = sum / n
		for _, l := range latencies {
			d := l.Seconds() - avg
			stddev += d * d
		}
		stddev = math.Sqrt(stddev / n)
	}
	if elapsed > 0 {
		rps = float64(len(latencies)) / elapsed.Seconds()
	}
	r.Throughput, r.Slowest, r.Average, r.Stddev = rps, seconds(slowest), seconds(avg), seconds(stddev)

	errCheck := PerfCheck{Name: "errors", Pass: true}
	if len(errs) > 0 {
		r.ErrorDist = maps.Clone(errs)
		lines := []string{"FAIL: too many errors"}
		for _, msg := range slices.Sorted(maps.Keys(errs)) {
			r.Errors += errs[msg]
			lines = append(lines, fmt.Sprintf("FAIL: ERROR(%s) -> %d", msg, errs[msg]))
		}
		r.Requests += r.Errors
		errCheck = PerfCheck{Name: "errors", Pass: false, Line: strings.Join(lines, "\n")}
	}
	throughput := PerfCheck{Name: "throughput", Pass: load.Limit > 0 && rps/float64(load.Limit) > 0.9}
	if throughput.Pass {
		throughput.Line = fmt.Sprintf("PASS: Throughput is %d writes/s", int(rps)+1)
	} else {
		throughput.Line = fmt.Sprintf("FAIL: Throughput too low: %d writes/s", int(rps)+1)
	}
	slow := PerfCheck{Name: "slowest", Pass: slowest <= 0.5}
	if slow.Pass {
		slow.Line = fmt.Sprintf("PASS: Slowest request took %fs", slowest)
	} else {
		slow.Line = fmt.Sprintf("Slowest request took too long: %fs", slowest)
	}
	dev := PerfCheck{Name: "stddev", Pass: stddev <= 0.1}
	if dev.Pass {
		dev.Line = fmt.Sprintf("PASS: Stddev is %fs", stddev)
	} else {
		dev.Line = fmt.Sprintf("Stddev too high: %fs", stddev)
	}
	r.Checks = []PerfCheck{errCheck, throughput, slow, dev}
	r.Pass = true
	for _, c := range r.Checks {
		r.Pass = r.Pass && c.Pass
	}
	return r
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// perfCleanupTimeout bounds deleting the keys afterwards, as in etcdctl.
const perfCleanupTimeout = 30 * time.Second

// perfDialers bounds how many of a load's connections are dialled at once.
const perfDialers = 16

// CheckPerf runs etcdctl check perf against the cluster: it refuses when
// the prefix already has keys (ErrPrefixHasKeys), opens the load's number of
// client connections, and for the duration a rate limiter (burst 1) hands
// puts of random keys under the prefix to them at the load's rate; then it
// deletes everything under the prefix and judges the run (see Judge).
//
// Puts that are still running when the duration ends are waited for, as
// etcdctl does; they are bounded by ctx only, so callers that must not
// hang on a cluster without a leader pass a ctx with a deadline. When ctx
// is cancelled the keys are deleted all the same and CheckPerf returns the
// cancellation.
func (c *Client) CheckPerf(ctx context.Context, opts PerfOptions) (*PerfResult, error) {
	load := opts.Load
	if load.Name == "" {
		load, _ = LookupPerfLoad("s")
	}
	if load.Clients < 1 || load.Limit < 1 || load.KeySize < binary.MaxVarintLen64 {
		return nil, fmt.Errorf("check perf load %q: needs a client, a positive limit and keys of at least %d bytes", load.Name, binary.MaxVarintLen64)
	}
	prefix := cmp.Or(opts.Prefix, DefaultPerfPrefix)
	duration := cmp.Or(opts.Duration, load.Duration)
	if duration <= 0 {
		return nil, fmt.Errorf("check perf: duration %s is not positive", duration)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}

	clients, err := c.perfClients(ctx, load.Clients)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()

	// The run ends at its own deadline, or when ctx is done, but not ahead
	// of ctx's deadline: the rate limiter gives up early on a wait that
	// would pass a deadline, and ctx.Err() must be set whenever ctx ended
	// the run.
	runCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), duration)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	resp, err := clients[0].Get(runCtx, prefix, clientv3.WithPrefix(), clientv3.WithLimit(1))
	if err != nil {
		return nil, fmt.Errorf("check perf: reading prefix %q: %w", prefix, err)
	}
	if len(resp.Kvs) > 0 {
		return nil, fmt.Errorf("check perf under %q: %w: delete them first with 'etcdctl del --prefix %s'", prefix, ErrPrefixHasKeys, prefix)
	}

	total := max(int(math.Ceil(duration.Seconds())), 1)
	stopProgress := startPerfProgress(opts.Progress, total)
	start := now()
	lats, errs := runPerf(ctx, runCtx, clients, load, prefix, now)
	elapsed := now().Sub(start)
	stopProgress()

	r := Judge(lats, errs, load, elapsed)
	r.Prefix = prefix
	// Like etcdctl's interrupt handler: the keys go even when the run was
	// cancelled, so the deletion gets a context of its own.
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), perfCleanupTimeout)
	defer dcancel()
	dresp, err := clients[0].Delete(dctx, prefix, clientv3.WithPrefix())
	if err != nil {
		r.CleanupError = err.Error()
	} else {
		r.Deleted = dresp.Deleted
	}
	if ctx.Err() != nil {
		err := fmt.Errorf("check perf under %q: %w", prefix, context.Cause(ctx))
		if r.CleanupError != "" {
			err = fmt.Errorf("%w (and deleting its keys failed: %s)", err, r.CleanupError)
		}
		return nil, err
	}
	return &r, nil
}

// runPerf is etcdctl's loop: one worker per client takes puts from a
// channel as deep as there are clients, and a producer fills it through the
// rate limiter until runCtx ends. It returns the latencies of the puts that
// succeeded and the errors of the others by message.
func runPerf(ctx, runCtx context.Context, clients []*clientv3.Client, load PerfLoad, prefix string, now func() time.Time) ([]time.Duration, map[string]int) {
	type tally struct {
		lats []time.Duration
		errs map[string]int
	}
	requests := make(chan clientv3.Op, len(clients))
	tallies := make([]tally, len(clients))
	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Go(func() {
			t := &tallies[i]
			for op := range requests {
				st := now()
				if _, err := cl.Do(ctx, op); err != nil {
					if t.errs == nil {
						t.errs = map[string]int{}
					}
					t.errs[err.Error()]++
					continue
				}
				t.lats = append(t.lats, now().Sub(st))
			}
		})
	}
	go func() {
		defer close(requests)
		limit := rate.NewLimiter(rate.Limit(load.Limit), 1)
		k, v := make([]byte, load.KeySize), string(make([]byte, load.ValueSize))
		for limit.Wait(runCtx) == nil {
			binary.PutVarint(k, rand.Int64N(math.MaxInt64))
			requests <- clientv3.OpPut(prefix+string(k), v)
		}
	}()
	wg.Wait()

	var lats []time.Duration
	errs := map[string]int{}
	for _, t := range tallies {
		lats = append(lats, t.lats...)
		for msg, n := range t.errs {
			errs[msg] += n
		}
	}
	return lats, errs
}

// perfClients opens n connections, each its own clientv3 client as
// etcdctl's are. Their life is not bound to ctx, so the keys can still be
// deleted through one of them after ctx is cancelled; the caller closes
// them.
func (c *Client) perfClients(ctx context.Context, n int) ([]*clientv3.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("check perf: connecting: %w", err)
	}
	life := context.WithoutCancel(ctx)
	clients := make([]*clientv3.Client, n)
	errs := make([]error, n)
	sem := make(chan struct{}, perfDialers)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			clients[i], errs[i] = newClientv3(life, c.cfg, c.cfg.Endpoints)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			for _, cl := range clients {
				if cl != nil {
					cl.Close()
				}
			}
			return nil, fmt.Errorf("check perf: connecting %d clients to %s: %w", n, strings.Join(c.cfg.Endpoints, ","), err)
		}
	}
	return clients, nil
}

// startPerfProgress calls progress with (0, total), then once a second, as
// etcdctl's bar advances; the function it returns stops the ticking and
// reports (total, total).
func startPerfProgress(progress func(done, total int), total int) (stop func()) {
	if progress == nil {
		return func() {}
	}
	progress(0, total)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for done := 1; done < total; done++ {
			select {
			case <-quit:
				return
			case <-tick.C:
				progress(done, total)
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
		progress(total, total)
	}
}
