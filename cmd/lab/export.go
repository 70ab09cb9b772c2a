package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab"
)

func exportCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write everything needed to debug the lab into a directory (like kind export logs)",
		ArgsUsage: "DIR",
		Description: `Writes into DIR (created, mode 0700): the lab's state without secrets, the network's
and every domain's XML, each node's console log, etcd journal, cloud-init logs and
status, 'systemctl status etcd' and failed units, and the member table. A part that
cannot be had (a node down, no leader) is listed with its reason; the rest is still
written, and the exit status is 0. Attach DIR to a bug report, or let CI upload it:

   lab export lab-evidence`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return newUsageError(c, "name the directory to write into, e.g. lab export lab-evidence")
			}
			l, err := g.open()
			if err != nil {
				return err
			}
			x, err := l.Export(c.Context, c.Args().First())
			if x != nil {
				if perr := g.printExport(x); perr != nil {
					return perr
				}
			}
			return err
		},
	}
}

func (g *globals) printExport(x *lab.Exported) error {
	if g.json() {
		return g.printJSON(x)
	}
	w := tabwriter.NewWriter(g.streams.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FILE\tBYTES\tERROR")
	for _, f := range x.Files {
		fmt.Fprintf(w, "%s\t%d\t%s\n", f.File, f.Bytes, dash(f.Error))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(g.streams.out, "exported %d files into %s (%d could not be had)\n", len(x.Files)-x.Failed(), x.Dir, x.Failed())
	return nil
}
