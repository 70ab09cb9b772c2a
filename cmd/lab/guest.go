package main

import (
	"bufio"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab/guest"
)

// guestCommand is what runs inside the lab's VMs: the lab binary carried
// to a node (guest.LabBinary) by 'lab disk probe' and the slow-disk
// scenario. Hidden: people run those, not this.
func guestCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:        guest.GroupCommand,
		Hidden:      true,
		Usage:       "commands the lab runs inside its VMs",
		Subcommands: []*cli.Command{guestFsyncProbeCommand(g)},
	}
}

func guestFsyncProbeCommand(g *globals) *cli.Command {
	d := guest.DefaultProbe()
	p := guest.FsyncProbe{Dir: d.Dir, Count: d.Count, MaxTime: d.MaxTime, Bytes: guest.ProbeWriteSize}
	return &cli.Command{
		Name:   guest.ProbeCommand,
		Hidden: true,
		Usage:  "write and fdatasync in DIR, printing each fdatasync's latency in microseconds, one a line",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: guest.FlagDir, Value: p.Dir, Destination: &p.Dir, Usage: "directory on the disk to probe"},
			&cli.IntFlag{Name: guest.FlagCount, Value: p.Count, Destination: &p.Count, Usage: "writes"},
			&cli.DurationFlag{Name: guest.FlagMaxTime, Value: p.MaxTime, Destination: &p.MaxTime, Usage: "stop after this long"},
			&cli.IntFlag{Name: guest.FlagBytes, Value: p.Bytes, Destination: &p.Bytes, Usage: "bytes per write"},
		},
		Action: func(c *cli.Context) error {
			if err := p.Validate(); err != nil {
				return inputError{err}
			}
			// Each line goes out as it is measured: a probe cut short still
			// leaves what it saw.
			w := bufio.NewWriter(g.streams.out)
			return p.Run(c.Context, func(d time.Duration) error {
				if _, err := w.WriteString(guest.FormatLatency(d)); err != nil {
					return err
				}
				return w.Flush()
			})
		},
	}
}
