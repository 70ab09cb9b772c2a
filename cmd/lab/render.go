package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab"
)

func renderCommand(g *globals) *cli.Command {
	var f specFlags
	var out string
	var force bool
	return &cli.Command{
		Name:  "render",
		Usage: "write everything create would send to each node, without touching libvirt",
		Description: `Writes, per node, the cloud-init seed (user-data, meta-data, network-config),
etcd.service and the seed ISO, plus the certificates etcd uses, into --out. It
uses the lab's keys (made now if the lab has none yet), so the files are byte for
byte what 'lab create' with the same flags uploads. Private keys are 0600. Every
file is written to a new file and renamed into place, so an existing file's mode
never carries over and a symbolic link is replaced, not followed. A non-empty
--out that is not an earlier render of the same lab (it holds a .lab-render
marker) is refused unless --force.`,
		Flags: append(f.flags(),
			&cli.StringFlag{Name: "out", Required: true, Destination: &out, Usage: "directory to write into: empty, new, or an earlier render of this lab"},
			&cli.BoolFlag{Name: "force", Destination: &force, Usage: "write into a non-empty directory that is not an earlier render of this lab"}),
		Action: func(c *cli.Context) error {
			pr, err := f.prepare(c.Context, g, nil)
			if err != nil {
				return err
			}
			plan, bins := pr.Plan, pr.Etcd
			// Before the lab's keys are made: a refusal leaves nothing.
			if err := lab.CheckRenderDir(out, plan.Spec.Name, force); err != nil {
				if errors.Is(err, lab.ErrRenderDir) {
					return inputError{err}
				}
				return err
			}
			store, err := g.store()
			if err != nil {
				return err
			}
			keys, err := lab.EnsureKeys(store, plan)
			if err != nil {
				return err
			}
			in := lab.RenderInputs{Plan: plan, PKI: keys, Etcd: bins}
			seeds, err := lab.Render(in)
			if err != nil {
				return err
			}
			if err := lab.WriteRender(out, in, seeds, force); err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(newRenderJSON(g.Lab, out, seeds))
			}
			for _, s := range seeds {
				fmt.Fprintf(g.streams.out, "%s/%s/\t%s %s\n", out, s.Node.Name, s.Node.IP, strings.Join(renderedFiles, " "))
			}
			return nil
		},
	}
}
