package main

import (
	"context"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab"
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
	def := lab.DefaultPerfRequest()
	return &cli.Command{
		Name:  "perf",
		Usage: "check the cluster's performance as 'etcdctl check perf' does",
		Description: `Runs etcdctl check perf's algorithm through the lab's client certificate: the
load's clients put random 256-byte keys with 1024-byte values under the prefix,
together at the load's rate, for 60 seconds; then the keys are deleted. It
passes with throughput above 90 % of the rate, no request slower than 0.5 s,
a latency stddev of at most 0.1 s and no errors; it exits 1 when it fails.
It refuses to run when the prefix already has keys.

Loads: ` + strings.Join(lab.PerfLoadChoices(), ", "),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "load", Value: def.Load, Destination: &flags.load,
				Usage: "workload model: s, m, l or xl (etcdctl's small, medium, large, xLarge)"},
			&cli.StringFlag{Name: "prefix", Value: def.Prefix, Destination: &flags.prefix,
				Usage: "where the check writes its keys"},
			&cli.DurationFlag{Name: "duration", Destination: &flags.duration, DefaultText: "60s, etcdctl's",
				Usage: "how long to run (shorter runs judge slowest and stddev on fewer requests)"},
		},
		Action: func(c *cli.Context) error {
			req := lab.PerfRequest{Load: flags.load, Prefix: flags.prefix, Duration: flags.duration, DurationGiven: c.IsSet("duration")}
			if err := req.Check(); err != nil {
				return err
			}
			return g.checkPerf(c.Context, req)
		},
	}
}

// checkPerf runs check perf against the lab and prints etcdctl's verdict
// lines, or the result as JSON; a failed check exits 1.
func (g *globals) checkPerf(ctx context.Context, req lab.PerfRequest) error {
	l, err := g.open()
	if err != nil {
		return err
	}
	r, err := l.CheckPerf(ctx, req)
	if err != nil {
		return err
	}
	if g.json() {
		err = g.printJSON(r)
	} else {
		err = r.WriteText(g.streams.out)
	}
	if err != nil {
		return err
	}
	if !r.Pass {
		return exitError{code: 1}
	}
	return nil
}
