package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/progress"
)

func checkCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:        "check",
		Usage:       "check properties of the lab's etcd cluster",
		Subcommands: []*cli.Command{checkPerfCommand(g)},
	}
}

func checkPerfCommand(g *globals) *cli.Command {
	var flags struct {
		load, prefix string
		duration     time.Duration
	}
	var loads []string
	for _, l := range etcd.PerfLoads() {
		loads = append(loads, fmt.Sprintf("%s (%d writes/s, %d clients)", l.Name, l.Limit, l.Clients))
	}
	return &cli.Command{
		Name:  "perf",
		Usage: "check the cluster's performance as 'etcdctl check perf' does",
		Description: `Runs etcdctl check perf's algorithm through the lab's client certificate: the
load's clients put random 256-byte keys with 1024-byte values under the prefix,
together at the load's rate, for 60 seconds; then the keys are deleted. It
passes with throughput above 90 % of the rate, no request slower than 0.5 s,
a latency stddev of at most 0.1 s and no errors; it exits 1 when it fails.
It refuses to run when the prefix already has keys.

Loads: ` + strings.Join(loads, ", "),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "load", Value: "s", Destination: &flags.load,
				Usage: "workload model: s, m, l or xl (etcdctl's small, medium, large, xLarge)"},
			&cli.StringFlag{Name: "prefix", Value: etcd.DefaultPerfPrefix, Destination: &flags.prefix,
				Usage: "where the check writes its keys"},
			&cli.DurationFlag{Name: "duration", Destination: &flags.duration, DefaultText: "60s, etcdctl's",
				Usage: "how long to run (shorter runs judge slowest and stddev on fewer requests)"},
		},
		Action: func(c *cli.Context) error {
			load, err := etcd.LookupPerfLoad(flags.load)
			if err != nil {
				return inputError{err}
			}
			if flags.duration < 0 || c.IsSet("duration") && flags.duration == 0 {
				return refuse("--duration", flags.duration, "must be positive", "use 60s (etcdctl's), or leave it out")
			}
			if flags.prefix == "" || flags.prefix == "/" {
				return refuse("--prefix", fmt.Sprintf("%q", flags.prefix), "the check writes and then deletes every key under it", "use a prefix of its own, such as "+etcd.DefaultPerfPrefix)
			}
			return g.checkPerf(c.Context, etcd.PerfOptions{Load: load, Prefix: flags.prefix, Duration: flags.duration})
		},
	}
}

// checkPerf runs check perf against the lab and prints etcdctl's verdict
// lines, or the result as JSON; a failed check exits 1.
func (g *globals) checkPerf(ctx context.Context, opts etcd.PerfOptions) error {
	l, err := g.open()
	if err != nil {
		return err
	}
	c, err := l.EtcdClient(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return g.runCheckPerf(ctx, c, l.Name(), opts)
}

// runCheckPerf is checkPerf once connected to the cluster of lab name.
func (g *globals) runCheckPerf(ctx context.Context, c *etcd.Client, name string, opts etcd.PerfOptions) error {
	load := opts.Load
	duration := load.Duration
	if opts.Duration > 0 {
		duration = opts.Duration
	}
	end := g.printer().Start("check perf on lab %s: load %s, %d writes/s from %d clients for %s under %s",
		name, load.Name, load.Limit, load.Clients, duration, opts.Prefix)
	bar := g.perfProgress()
	opts.Progress = bar.update
	r, err := c.CheckPerf(ctx, opts)
	bar.close()
	end(err)
	if err != nil {
		return err
	}
	if g.json() {
		if err := g.printJSON(newPerfJSON(r)); err != nil {
			return err
		}
	} else {
		printPerf(g.streams.out, r)
	}
	if !r.Pass {
		return exitError{code: 1}
	}
	return nil
}

// printPerf writes the result as etcdctl check perf prints it.
func printPerf(w io.Writer, r *etcd.PerfResult) {
	for _, line := range r.Lines() {
		fmt.Fprintln(w, line)
	}
}

// perfBar shows check perf's seconds through the one progress Status: a
// live bar on a terminal, a line every 10 % otherwise, nothing with --quiet.
type perfBar struct {
	status *progress.Printer
	count  *progress.Count
}

func (g *globals) perfProgress() *perfBar { return &perfBar{status: g.printer()} }

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
