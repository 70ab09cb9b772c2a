package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/scenarios"
	"github.com/kthw-lab/lab/scenarios/slowdisk"
)

func scenarioCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:        "scenario",
		Usage:       "run experiments on the lab and compare their arms",
		Subcommands: []*cli.Command{scenarioListCommand(g), slowDiskCommand(g), thresholdMapCommand(g)},
	}
}

func scenarioListCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "describe each scenario and its arms",
		Action: func(*cli.Context) error {
			list := scenarios.List()
			if g.json() {
				return g.printJSON(list)
			}
			for _, s := range list {
				fmt.Fprintf(g.streams.out, "%s\n  %s\n", s.Name, s.Description)
				for _, a := range s.Arms {
					fmt.Fprintf(g.streams.out, "  - %-10s %s", a.Name, a.Description)
					if a.Expect != "" {
						fmt.Fprintf(g.streams.out, " (expected: %s)", a.Expect)
					}
					fmt.Fprintln(g.streams.out)
				}
			}
			return nil
		},
	}
}

func slowDiskCommand(g *globals) *cli.Command {
	var opts slowDiskFlags
	var f specFlags
	flags := []cli.Flag{
		&cli.StringSliceFlag{Name: "arms", Destination: &opts.arms, DefaultText: "ssd, hdd, hdd-tuned", Usage: "arms to run, in this order (also hdd-noprevote); " +
			"ARM@VERSION runs a cached etcd for that arm, e.g. hdd@v3.4.23 (lab etcd fetch --from debian --version v3.4.23)"},
		&cli.StringFlag{Name: "duration", Value: "default", Destination: &opts.duration,
			Usage: fmt.Sprintf("observation per arm, under the write workload, once it has a leader: a Go duration (2m, 90s), short (%s, CI-sized) or default (%s)", shortDuration, slowdisk.DefaultDuration)},
		&cli.DurationFlag{Name: "check-perf", Value: slowdisk.DefaultCheckPerfDuration, Destination: &opts.checkPerf, Usage: "check perf run at the end of each arm (0 to skip; etcdctl runs 60s)"},
		&cli.DurationFlag{Name: "fsync-latency", Destination: &opts.fsync, DefaultText: "1s, the story's", Usage: "the hdd profile's fsync latency"},
		&cli.StringFlag{Name: "out", Destination: &opts.out, DefaultText: "./slow-disk-DATE-TIME", Usage: "report directory"},
		&cli.StringFlag{Name: "junit", Destination: &opts.junit, Usage: "also write a JUnit XML file, one test case per arm"},
		&cli.IntFlag{Name: "repeats", Value: 1, Destination: &opts.repeats, Usage: "run the arms this many times (reports in run-1, run-2 ...)"},
		&cli.BoolFlag{Name: "create", Destination: &opts.create, Usage: "create the lab first when it does not exist (takes create's flags)"},
		&cli.BoolFlag{Name: "restore", Value: true, Destination: &opts.restore, Usage: "afterwards put the lab back as create left it (ssd profile, its timeouts, " +
			"a fresh cluster); --restore=false leaves it as the last arm left it, for a lab you destroy next (make demo does)"},
		&cli.BoolFlag{Name: "strict", Destination: &opts.strict, Usage: "exit 1 when a report does not show the story's contrast (for CI)"},
	}
	return &cli.Command{
		Name:  "slow-disk",
		Usage: "reproduce the story's election failure on a slow disk, and compare ssd, hdd and hdd with tuned timeouts",
		Description: `Runs on the existing lab's VMs. For each arm it stops etcd, wipes its data,
applies the arm's disk profile and raft timeouts, probes the disks' fdatasync
latency, starts every member at once (a new cluster must elect its leader on the
disk under test), observes it under a steady write workload, runs check perf and
collects metrics, journals, domain XML and console logs. It then prints the
comparison and writes report.md, report.json and charts into --out. Afterwards
the lab is back on the ssd profile with its own timeouts and a fresh cluster.

SSH and etcd calls inside an arm retry failed connections (a handshake that
misses its deadline, a member that refuses while it restarts) a few times with
backoff. An arm that still fails is recorded with its cause, the lab is reset
and the next arm runs. report.md and report.json are rewritten after every
arm; Ctrl-C writes the report of the arms done. Exit status 0 when every arm
ran, whatever it found; 1 (after the report) when an arm has no results.`,
		Flags: append(flags, f.flags()...),
		Action: func(c *cli.Context) error {
			o, err := opts.check(g, c)
			if err != nil {
				return err
			}
			l, err := g.scenarioLab(c, &f, opts.create)
			if err != nil {
				return err
			}
			o.Lab, o.Progress, o.Logger = l, g.printer(), g.logger()
			host, _ := os.Hostname()
			o.Host = fmt.Sprintf("%s (accel %s)", host, l.State.Accel)
			return g.runSlowDisk(c, o, opts.repeats, opts.junit, opts.strict)
		},
	}
}

// slowDiskFlags are slow-disk's own flags.
type slowDiskFlags struct {
	arms      cli.StringSlice
	duration  string
	checkPerf time.Duration
	fsync     time.Duration
	out       string
	junit     string
	repeats   int
	create    bool
	restore   bool
	strict    bool
}

// check reads the flags into the scenario's options, every arm's etcd
// resolved in the cache, before the lab is touched.
func (opts *slowDiskFlags) check(g *globals, c *cli.Context) (slowdisk.Options, error) {
	duration, err := parseArmDuration(opts.duration)
	if err != nil {
		return slowdisk.Options{}, err
	}
	arms, err := slowdisk.Select(opts.arms.Value())
	if err != nil {
		return slowdisk.Options{}, err
	}
	binaries, err := slowdisk.ArmBinaries(g.CacheDir, arms)
	if err != nil {
		return slowdisk.Options{}, err
	}
	if opts.repeats < 1 {
		return slowdisk.Options{}, fmt.Errorf("--repeats %d: run at least once", opts.repeats)
	}
	out := opts.out
	if out == "" {
		out = "slow-disk-" + time.Now().Format("20060102-150405")
	}
	if c.IsSet("fsync-latency") && opts.fsync <= 0 {
		return slowdisk.Options{}, fmt.Errorf("--fsync-latency %s: want a positive duration such as 1s (the story's), or leave it out", opts.fsync)
	}
	o := slowdisk.Options{Arms: arms, Duration: duration, CheckPerfDuration: opts.checkPerf,
		FsyncLatency: opts.fsync, EtcdBinaries: binaries, OutDir: out, NoRestore: !opts.restore}
	return o, slowdisk.Check(o)
}

// scenarioLab opens the lab the scenario runs on, creating it first with
// --create when it does not exist.
func (g *globals) scenarioLab(c *cli.Context, f *specFlags, create bool) (*lab.Lab, error) {
	// create's flags only mean something when --create creates the lab;
	// silently ignoring them would run on a lab the user did not describe.
	var createFlags []string
	for _, fl := range f.flags() {
		if name := fl.Names()[0]; c.IsSet(name) {
			createFlags = append(createFlags, "--"+name)
		}
	}
	if len(createFlags) > 0 && !create {
		return nil, fmt.Errorf("%s: create's flags apply only with --create (which creates the lab when it does not exist): add --create, or drop them",
			strings.Join(createFlags, ", "))
	}
	l, err := g.open()
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		if err := g.create(c, f); err != nil {
			return nil, err
		}
		l, err = g.open()
	case err == nil && len(createFlags) > 0:
		return nil, fmt.Errorf("lab %q exists, so %s would not apply: drop them, or destroy the lab first",
			g.Lab, strings.Join(createFlags, ", "))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("lab %q does not exist: run 'lab create' first, or add --create", g.Lab)
	}
	if err != nil {
		return nil, err
	}
	if l.State.Phase != lab.PhaseReady {
		return nil, fmt.Errorf("lab %q is not ready (its create did not finish): run 'lab create' again, or 'lab destroy'", g.Lab)
	}
	return l, nil
}

// runSlowDisk runs the scenario repeats times, each run's report in its
// own directory, and prints each report as it is written. With strict, a
// report that does not show the story's contrast exits 1, after all are
// written.
func (g *globals) runSlowDisk(c *cli.Context, o slowdisk.Options, repeats int, junit string, strict bool) error {
	out := o.OutDir
	var missed []string
	for i := 1; i <= repeats; i++ {
		if repeats > 1 {
			o.OutDir = filepath.Join(out, fmt.Sprintf("run-%d", i))
		}
		rep, err := slowdisk.Run(c.Context, o)
		// A run with arms missing (failed or interrupted) still wrote its
		// report: show it, then fail with the reason.
		if rep == nil || (err != nil && len(rep.Arms) == 0 && len(rep.Missing) == 0) {
			return err
		}
		var perr error
		if junit != "" {
			perr = slowdisk.WriteJUnit(junit, *rep)
		}
		if g.json() {
			perr = errors.Join(perr, slowdisk.WriteJSON(g.streams.out, *rep))
		} else {
			perr = errors.Join(perr, slowdisk.Print(g.streams.out, *rep, o.OutDir))
		}
		if perr != nil {
			return errors.Join(err, perr)
		}
		if rep.RestoreWarning != "" {
			fmt.Fprintf(g.streams.err, "warning: %s\n", rep.RestoreWarning)
		}
		if err != nil {
			return fmt.Errorf("scenario slow-disk (report in %s): %w", o.OutDir, err)
		}
		if err := slowdisk.Contrast(*rep); err != nil {
			missed = append(missed, fmt.Sprintf("%s: %v", o.OutDir, err))
		}
	}
	if strict {
		// The reports are written: --strict only sets the exit status.
		return strictContrast(missed)
	}
	return nil
}

// strictContrast is --strict's exit status: 1 when any report did not show
// the story's contrast (missed: "DIR: why" each).
func strictContrast(missed []string) error {
	if len(missed) == 0 {
		return nil
	}
	return exitError{code: 1, msg: "--strict: the story's contrast did not show in " + strings.Join(missed, "; ")}
}

// shortDuration is --duration short: a run sized for CI that still shows the
// hdd arm's election trouble and slow fsyncs (the e2e test asserts them after
// 30s; 45s leaves a margin for slower runners).
const shortDuration = 45 * time.Second

// parseArmDuration reads --duration: the words short and default, or a
// positive Go duration.
func parseArmDuration(s string) (time.Duration, error) {
	switch s {
	case "short":
		return shortDuration, nil
	case "default":
		return slowdisk.DefaultDuration, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--duration %q: want a positive Go duration such as 90s or 2m, short (%s) or default (%s)",
			s, shortDuration, slowdisk.DefaultDuration)
	}
	return d, nil
}
