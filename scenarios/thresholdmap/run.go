package thresholdmap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kthw-lab/lab/progress"
	"github.com/kthw-lab/lab/scenarios/report"
)

// CellRunner runs one cell on a lab and returns its result; Reset leaves
// the lab ready for the next cell after one failed. The CLI's runner is
// slowdisk.Session.
type CellRunner interface {
	Run(ctx context.Context, c Cell) (report.Arm, error)
	Reset(ctx context.Context) error
}

// Options are the inputs of Run.
type Options struct {
	// Dir is the output directory, holding the grid and its shard.
	Dir    *Dir
	Runner CellRunner
	// Host describes the machine and lab, kept with every cell.
	Host     string
	Progress *progress.Printer
}

// Run measures the shard's cells that have no file yet, in order, writing
// each cell's file as soon as it is measured and the map after every cell,
// so that a run cut off anywhere leaves a valid partial map and resumes
// where it stopped. A cell that fails is reported, the lab is reset and
// the next cell runs; it has no file, so a later run measures it again.
// When ctx ends, the cell under way is dropped (not half-written).
func Run(ctx context.Context, o Options) (Map, error) {
	todo, done, err := o.Dir.Todo()
	if err != nil {
		return Map{}, err
	}
	shardCells := len(o.Dir.Shard.Of(o.Dir.Grid.Cells()))
	finished := shardCells - len(todo)
	if finished > 0 {
		o.Progress.Printf("resuming %s: %d of %d cells of shard %s already measured", o.Dir.Path, finished, shardCells, o.Dir.Shard)
	}
	var measured []Result
	var failed []string
	write := func() {
		if err := Write(o.Dir.Path, Build(o.Dir.Grid, done)); err != nil {
			o.Progress.Printf("warning: %v", err)
		}
	}
	for k, c := range todo {
		if ctx.Err() != nil {
			break
		}
		eta := "ETA after the first cell"
		if d, ok := ETA(measured, todo[k:]); ok {
			eta = "ETA " + d.Round(time.Second).String()
		}
		end := o.Progress.Start("cell %d/%d: %s (%s)", finished+k+1, shardCells, c, eta)
		start := time.Now()
		arm, err := o.Runner.Run(ctx, c)
		if err == nil && ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		end(err)
		switch {
		case ctx.Err() != nil:
			// Cut off: no file, so a resumed run measures it again.
		case err != nil:
			failed = append(failed, fmt.Sprintf("%s (%v)", c.ID(), err))
			if rerr := o.Runner.Reset(ctx); rerr != nil {
				o.Progress.Printf("warning: resetting the lab after cell %s: %v", c.ID(), rerr)
			}
		default:
			r := Result{Cell: c, Arm: arm, Wall: time.Since(start), Host: o.Host, Finished: time.Now()}
			if err := o.Dir.Save(r); err != nil {
				return Build(o.Dir.Grid, done), err
			}
			done[c.ID()], measured = r, append(measured, r)
			o.Progress.Printf("  %s: %s; first leader %s, %d elections, %d leader changes (observed %s of %s)",
				c.ID(), r.Outcome(), firstLeader(arm), arm.Elections, arm.LeaderChanges, short(r.Observed()), short(r.Wall))
		}
		write()
	}
	write()
	m := Build(o.Dir.Grid, done)
	var errs []error
	if ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("interrupted (%w): the map of the %d cells measured is written; run the same command again to resume",
			context.Cause(ctx), len(m.Results)))
	}
	if len(failed) > 0 {
		errs = append(errs, fmt.Errorf("cells without results (run the same command again to measure them): %s", strings.Join(failed, "; ")))
	}
	return m, errors.Join(errs...)
}

func firstLeader(a report.Arm) string {
	if !a.Elected() {
		return "never"
	}
	return figure(a.TimeToFirstLeader)
}
