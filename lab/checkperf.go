package lab

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/progress"
)

// PerfRequest is what `lab check perf` is asked for, as the user gave it.
type PerfRequest struct {
	// Load names etcdctl's workload model: s, m, l or xl, or its long
	// forms small, medium, large and xLarge.
	Load string
	// Prefix is where the check writes its keys; afterwards it deletes
	// everything under it.
	Prefix string
	// Duration is how long the check runs; zero is the load's own,
	// etcdctl's 60 s.
	Duration time.Duration
	// DurationGiven says Duration was given (--duration): a zero given is
	// refused rather than read as the load's own.
	DurationGiven bool
}

// DefaultPerfRequest is etcdctl's check perf: the small load, under its
// prefix, for the load's 60 s.
func DefaultPerfRequest() PerfRequest {
	return PerfRequest{Load: "s", Prefix: etcd.DefaultPerfPrefix}
}

// PerfLoadChoices are the loads a PerfRequest may name, smallest first,
// each with its rate and clients: "s (150 writes/s, 50 clients)".
func PerfLoadChoices() []string {
	var out []string
	for _, l := range etcd.PerfLoads() {
		out = append(out, fmt.Sprintf("%s (%d writes/s, %d clients)", l.Name, l.Limit, l.Clients))
	}
	return out
}

// Check refuses a request that cannot run, before anything is opened: an
// unknown load, a duration that is not positive, and a prefix under which
// the check's deletion would take every key of the cluster. Each refusal
// is bad input (*InputError or *spec.FieldError) naming the flag and the
// fix.
func (r PerfRequest) Check() error {
	_, err := r.options()
	return err
}

// options is the checked request as the etcd client runs it.
func (r PerfRequest) options() (etcd.PerfOptions, error) {
	load, err := etcd.LookupPerfLoad(r.Load)
	if err != nil {
		return etcd.PerfOptions{}, &InputError{err}
	}
	if r.Duration < 0 || r.DurationGiven && r.Duration == 0 {
		return etcd.PerfOptions{}, &spec.FieldError{Flag: "--duration", Value: r.Duration.String(),
			Problem: "must be positive", Fix: "use 60s (etcdctl's), or leave it out"}
	}
	if r.Prefix == "" || r.Prefix == "/" {
		return etcd.PerfOptions{}, &spec.FieldError{Flag: "--prefix", Value: fmt.Sprintf("%q", r.Prefix),
			Problem: "the check writes and then deletes every key under it", Fix: "use a prefix of its own, such as " + etcd.DefaultPerfPrefix}
	}
	return etcd.PerfOptions{Load: load, Prefix: r.Prefix, Duration: r.Duration}, nil
}

// CheckPerf runs etcdctl check perf's algorithm against the lab's cluster
// through its client certificate (see etcd.Client.CheckPerf), showing its
// seconds on the lab's Progress. A result that fails the check is not an
// error: its Pass says so.
func (l *Lab) CheckPerf(ctx context.Context, r PerfRequest) (*etcd.PerfResult, error) {
	opts, err := r.options()
	if err != nil {
		return nil, err
	}
	c, err := l.EtcdClient(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return checkPerf(ctx, c, l.Name(), opts, l.progress())
}

// checkPerf is CheckPerf on a connected client of lab name's cluster.
func checkPerf(ctx context.Context, c *etcd.Client, name string, opts etcd.PerfOptions, p *progress.Printer) (*etcd.PerfResult, error) {
	load := opts.Load
	end := p.Start("check perf on lab %s: load %s, %d writes/s from %d clients for %s under %s",
		name, load.Name, load.Limit, load.Clients, cmp.Or(opts.Duration, load.Duration), opts.Prefix)
	bar := &perfBar{status: p}
	opts.Progress = bar.update
	r, err := c.CheckPerf(ctx, opts)
	bar.close()
	end(err)
	return r, err
}

// perfBar shows check perf's seconds through the progress printer: a live
// bar on a terminal, a line every 10 % otherwise, nothing when discarded.
type perfBar struct {
	status *progress.Printer
	count  *progress.Count
}

func (b *perfBar) update(done, total int) {
	if b.count == nil {
		b.count = b.status.Count("check perf", total, "s")
	}
	b.count.Set(done)
}

func (b *perfBar) close() {
	if b.count != nil {
		b.count.Close()
	}
}
