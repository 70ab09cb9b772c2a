package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab"
)

// store opens the store of --lab under --state-dir; a name that breaks the
// lab-name rule is refused here, before anything is read or written.
func (g *globals) store() (lab.Store, error) {
	return lab.NewStore(g.StateDir, g.Lab)
}

func listCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list every lab on the libvirt host and in the state directory, orphans flagged",
		Description: `Lists the labs whose objects are on the libvirt host (domains and networks carry
the lab's name in their metadata, pools a UUID made from it, volumes the lab's name
inside such a pool) and those with a state directory under --state-dir. A lab with
objects but no state is an orphan (its state was deleted, or lives under another
--state-dir or $HOME): 'lab --lab NAME destroy' removes its objects from the
markers alone.`,
		Action: func(c *cli.Context) error {
			p, err := g.host.Libvirt(c.Context)
			if err != nil {
				return err
			}
			labs, err := lab.List(c.Context, g.StateDir, p)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(labs)
			}
			w := tabwriter.NewWriter(g.streams.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "LAB\tSTATE\tDOMAINS\tNETWORK\tPOOLS\tVOLUMES\tORPHAN")
			for _, l := range labs {
				state := "none"
				if l.State {
					state = string(l.Phase)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%t\n", l.Name, state, dash(strings.Join(l.Domains, ",")),
					dash(strings.Join(l.Networks, ",")), dash(strings.Join(l.Pools, ",")), len(l.Volumes), l.Orphan)
			}
			return w.Flush()
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
