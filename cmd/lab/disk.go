package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/lab/spec"
)

func diskCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "disk",
		Usage: "set the etcd data disks' profile (ssd, hdd) live, and probe their fdatasync latency",
		Description: `Each node's etcd data disk sits under a device-mapper delay device inside the
guest. 'lab disk set --profile hdd' delays its writes and flushes (so an fsync
takes about --fsync-latency, 1s by default: the story's "sync duration of
1.04s") and caps its IOPS and bandwidth on the host like a 5400 rpm disk;
'--profile ssd' removes both. Nothing restarts. 'lab disk probe' measures what
etcd would see: 2300-byte writes each followed by fdatasync, as etcd's docs
recommend, judged against etcd's guidance (p99 below 10 ms). The probe is this
lab binary (static: make build), copied to each node that lacks it as
/usr/local/lib/lab/lab and run there.`,
		Subcommands: []*cli.Command{diskSetCommand(g), diskProbeCommand(g)},
	}
}

func diskSetCommand(g *globals) *cli.Command {
	var opts struct {
		all     bool
		profile string
		fsync   time.Duration
		emulate bool
	}
	return &cli.Command{
		Name:         "set",
		BashComplete: g.completeNodes,
		Usage:        "apply a disk profile to nodes' data disks, live",
		ArgsUsage:    "NODE... | --all",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Destination: &opts.all, Usage: "every node"},
			&cli.StringFlag{Name: "profile", Required: true, Destination: &opts.profile, Usage: "ssd (nothing added) or hdd (a shared laptop hard disk)"},
			&cli.DurationFlag{Name: "fsync-latency", Destination: &opts.fsync, DefaultText: "1s", Usage: "hdd: the fdatasync latency to emulate"},
			&cli.BoolFlag{Name: "emulate", Destination: &opts.emulate, Usage: "emulate hdd even on a node whose hdd pool is on a real spinning disk"},
		},
		Action: func(c *cli.Context) error {
			if opts.fsync < 0 {
				return refuse("--fsync-latency", opts.fsync, "must be positive", "use 1s (the story's), or leave it out")
			}
			p, err := guest.ForName(opts.profile, opts.fsync)
			if err != nil {
				return inputError{err}
			}
			l, nodes, err := g.diskNodes(c, opts.all)
			if err != nil {
				return err
			}
			named := nodes
			if p.Name == guest.HDD && !opts.emulate {
				var real []spec.Node
				nodes, real = l.SplitRealHDD(nodes)
				for _, n := range real {
					g.printer().Printf("%s: data disk is on a real HDD: no emulation (--emulate to add it anyway)", n.Name)
				}
			}
			if len(nodes) > 0 {
				if err := l.SetDiskProfile(c.Context, nodes, p); err != nil {
					return err
				}
			}
			if g.json() {
				return g.printJSON(newDiskSetJSON(l.Name(), p, named, nodes))
			}
			return nil
		},
	}
}

func diskProbeCommand(g *globals) *cli.Command {
	var opts struct {
		all     bool
		count   int
		maxTime time.Duration
	}
	d := guest.DefaultProbe()
	return &cli.Command{
		Name:         "probe",
		BashComplete: g.completeNodes,
		Usage:        "measure fdatasync latency on nodes' data disks (all nodes when none are named)",
		ArgsUsage:    "[NODE...] [--all]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Destination: &opts.all, Usage: "every node (also when no NODE is named)"},
			&cli.IntFlag{Name: "count", Value: d.Count, Destination: &opts.count, Usage: "writes (each 2300 bytes, then fdatasync); etcd's guidance is 22 MiB"},
			&cli.DurationFlag{Name: "max-time", Value: d.MaxTime, Destination: &opts.maxTime, Usage: "stop earlier after this long (a slow disk)"},
		},
		Action: func(c *cli.Context) error {
			if opts.count < 1 {
				return refuse("--count", opts.count, "the probe needs at least one write", fmt.Sprintf("use %d (etcd's 22 MiB), or fewer for a quick look", d.Count))
			}
			if opts.maxTime <= 0 {
				return refuse("--max-time", opts.maxTime, "must be positive", fmt.Sprintf("use %s, or longer for a slow disk", d.MaxTime))
			}
			l, nodes, err := g.diskNodes(c, true)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				if nodes, err = l.State.Nodes(c.Args().Slice()); err != nil {
					return err
				}
			}
			o := guest.ProbeOptions{Count: opts.count, MaxTime: opts.maxTime, Dir: d.Dir}
			results, err := l.ProbeDisks(c.Context, nodes, o)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(newProbeJSON(results))
			}
			w := tabwriter.NewWriter(g.streams.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NODE\tWRITES\tP50\tP99\tMAX\tVERDICT")
			for _, r := range results {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", r.Node, r.Writes, ms(r.P50), ms(r.P99), ms(r.Max), r.Verdict)
			}
			return w.Flush()
		},
	}
}

// diskNodes opens the lab and resolves the nodes named as arguments, or
// all with all.
func (g *globals) diskNodes(c *cli.Context, all bool) (*lab.Lab, []spec.Node, error) {
	l, err := g.open()
	if err != nil {
		return nil, nil, err
	}
	if all == (c.NArg() > 0) && !all {
		return nil, nil, fmt.Errorf("which nodes? name them (lab disk set k8smaster0 ...) or use --all")
	}
	var names []string
	if !all {
		names = c.Args().Slice()
	}
	nodes, err := l.State.Nodes(names)
	return l, nodes, err
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
