package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/scenarios/slowdisk"
	"github.com/kthw-lab/lab/scenarios/thresholdmap"
)

// thresholdMapFlags are threshold-map's own flags.
type thresholdMapFlags struct {
	fsync, election, versions string
	ratio                     int
	prevote                   bool
	cellDuration              time.Duration
	repeats                   int
	shard, out                string
}

func thresholdMapCommand(g *globals) *cli.Command {
	var f thresholdMapFlags
	return &cli.Command{
		Name:  "threshold-map",
		Usage: "sweep fsync latency × election timeout × etcd version and map where etcd keeps its leader",
		Description: `Runs on the existing lab's VMs, without re-creating them. Each cell of the grid
wipes etcd, puts the data disks on the hdd profile with the cell's fsync latency,
starts a fresh cluster with the cell's timeouts (heartbeat = election /
--heartbeat-ratio) and etcd, and observes it under a steady write workload for
--cell-duration after its first leader; it gets the slow-disk verdicts (time to
first leader, elections, leader changes, time without leader, puts).

Every finished cell is written to --out/cells at once; the same command with the
same --out resumes where it stopped (a cell that was cut off runs again), and
Ctrl-C leaves a valid partial map. After every cell, --out holds map.md,
map.json and a heatmap per version. --shard i/n runs every n-th cell from the
i-th, so n labs or CI runners can share a grid; 'lab report merge' joins their
directories. Afterwards the lab is back on the ssd profile with its own timeouts.
Exit status 2 for bad flags, 1 when cells have no results.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "fsync", Destination: &f.fsync, Value: durations(thresholdmap.DefaultFsync),
				Usage: "fsync latencies of the hdd profile, comma-separated (10ms to 30s)"},
			&cli.StringFlag{Name: "election", Destination: &f.election, Value: durations(thresholdmap.DefaultElection),
				Usage: "election timeouts, comma-separated"},
			&cli.IntFlag{Name: "heartbeat-ratio", Destination: &f.ratio, Value: thresholdmap.DefaultHeartbeatRatio,
				Usage: "election timeout / heartbeat interval (etcd's guidance: 10; at least 5)"},
			&cli.StringFlag{Name: "versions", Destination: &f.versions, Value: etcdbin.PinnedVersion() + ",v3.4.23",
				Usage: "etcd versions, comma-separated, each in the cache (lab etcd list; lab etcd fetch --from debian --version v3.4.23)"},
			&cli.BoolFlag{Name: "prevote", Destination: &f.prevote,
				Usage: "also run every cell of 3.5+ versions with pre-vote off (3.4's default)"},
			&cli.DurationFlag{Name: "cell-duration", Destination: &f.cellDuration, Value: thresholdmap.DefaultCellDuration,
				Usage: "observation of each cell after its first leader"},
			&cli.IntFlag{Name: "repeats", Destination: &f.repeats, Value: 1, Usage: "run each cell this many times (the map shows the spread)"},
			&cli.StringFlag{Name: "shard", Destination: &f.shard, Value: "1/1", Usage: "run the i-th of n shards of the grid: i/n"},
			&cli.StringFlag{Name: "out", Destination: &f.out, DefaultText: "./threshold-map", Usage: "output directory (an existing one is resumed)"},
		},
		Action: func(c *cli.Context) error {
			grid, shard, err := f.check()
			if err != nil {
				return inputError{err}
			}
			l, err := g.open()
			if err != nil {
				return err
			}
			if l.State.Phase != lab.PhaseReady {
				return fmt.Errorf("lab %q is not ready (its create did not finish): run 'lab create' again, or 'lab destroy'", g.Lab)
			}
			binaries, err := slowdisk.Binaries(g.CacheDir, grid.Versions, l.State.Etcd.Version)
			if err != nil {
				return inputError{fmt.Errorf("--versions: %w", err)}
			}
			dir, err := thresholdmap.OpenDir(f.out, grid, shard)
			if err != nil {
				return inputError{err}
			}
			return g.runThresholdMap(c.Context, l, dir, binaries)
		},
	}
}

// check reads the flags into the grid and the shard; every problem at
// once, before anything is touched.
func (f *thresholdMapFlags) check() (thresholdmap.Grid, thresholdmap.Shard, error) {
	var errs []error
	fsync, err := parseDurations("--fsync", f.fsync)
	errs = append(errs, err)
	election, err := parseDurations("--election", f.election)
	errs = append(errs, err)
	var versions []string
	for _, v := range strings.Split(f.versions, ",") {
		if v = strings.TrimSpace(v); v != "" {
			versions = append(versions, v)
		}
	}
	grid := thresholdmap.Grid{Fsync: fsync, Election: election, HeartbeatRatio: f.ratio, Versions: versions,
		PreVote: f.prevote, CellDuration: f.cellDuration, Repeats: f.repeats}
	if err := errors.Join(errs...); err != nil {
		return grid, thresholdmap.Shard{}, err
	}
	errs = append(errs, grid.Check())
	shard, err := thresholdmap.ParseShard(f.shard)
	errs = append(errs, err)
	if f.out == "" {
		f.out = "threshold-map"
	}
	if fi, err := os.Stat(f.out); err == nil && !fi.IsDir() {
		errs = append(errs, fmt.Errorf("--out %s is a file: choose a directory", f.out))
	}
	return grid, shard, errors.Join(errs...)
}

// parseDurations reads a comma-separated list of Go durations.
func parseDurations(flag, s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s: %q is not a positive duration such as 250ms or 2.5s", flag, part)
		}
		out = append(out, d)
	}
	return out, nil
}

func durations(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.String())
	}
	return strings.Join(s, ",")
}

func (g *globals) runThresholdMap(ctx context.Context, l *lab.Lab, dir *thresholdmap.Dir, binaries map[string]slowdisk.EtcdBinary) error {
	status := g.printer()
	sess, err := slowdisk.OpenSession(slowdisk.Options{Lab: l, EtcdBinaries: binaries,
		OutDir: filepath.Join(dir.Path, thresholdmap.EvidenceDir), Progress: status, Logger: g.logger()})
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	m, err := thresholdmap.Run(ctx, thresholdmap.Options{Dir: dir, Progress: status,
		Host:   fmt.Sprintf("%s (lab %s, accel %s)", host, l.State.Name, l.State.Accel),
		Runner: thresholdmap.SessionRunner(sess, dir.Grid, l.State.Etcd.Version)})
	if ctx.Err() == nil {
		if rerr := sess.Close(ctx, 0); rerr != nil {
			fmt.Fprintf(g.streams.err, "warning: %v\n", rerr)
		}
	}
	g.printMap(m, dir.Path)
	if err != nil {
		return fmt.Errorf("threshold-map (map in %s): %w", dir.Path, err)
	}
	return nil
}

func (g *globals) printMap(m thresholdmap.Map, dir string) {
	if g.json() {
		m.WriteJSON(g.streams.out)
		return
	}
	for _, s := range m.Series() {
		fmt.Fprintln(g.streams.out, m.Conclusion(s))
	}
	fmt.Fprintf(g.streams.out, "%d of %d cells measured. Map: %s\n", len(m.Results), len(m.Results)+len(m.Missing),
		filepath.Join(dir, thresholdmap.MapMarkdown))
}

func reportCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:        "report",
		Usage:       "work with the reports that scenarios write",
		Subcommands: []*cli.Command{reportMergeCommand(g)},
	}
}

func reportMergeCommand(g *globals) *cli.Command {
	var out string
	return &cli.Command{
		Name:      "merge",
		Usage:     "merge threshold-map shard directories into one map",
		ArgsUsage: "DIR...",
		Description: `Reads the --out directories of threshold-map shards of one grid and writes one
map (map.md, map.json, a heatmap per version, every cell's file) into --out. The
directories must hold the same grid; a cell measured in two directories must be
the same file, and two measurements that differ are refused. Cells that no
directory has are listed as not measured.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Destination: &out, Value: "threshold-map-merged", Usage: "directory of the merged map (must not hold another grid)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return newUsageError(c, "name the shard directories to merge")
			}
			m, err := thresholdmap.Merge(c.Args().Slice()...)
			if err != nil {
				return inputError{err}
			}
			if err := thresholdmap.WriteMerged(out, m); err != nil {
				return err
			}
			g.printMap(m, out)
			return nil
		},
	}
}
