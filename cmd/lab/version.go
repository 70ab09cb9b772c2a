package main

import (
	"fmt"

	"github.com/kthw-lab/lab/lab"
	"github.com/urfave/cli/v2"
)

func versionCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the lab version, the Go version and the etcd version pinned for the guests",
		Action: func(*cli.Context) error {
			info := lab.ReadBuildInfo()
			if g.json() {
				return g.printJSON(info)
			}
			fmt.Fprintf(g.streams.out, "lab %s", info.Lab)
			if info.Commit != "" {
				fmt.Fprintf(g.streams.out, " (%s)", info.Commit)
			}
			fmt.Fprintf(g.streams.out, "\ngo %s\netcd %s (pinned in go.mod; default for the guests)\n", info.Go, info.Etcd)
			return nil
		},
	}
}
