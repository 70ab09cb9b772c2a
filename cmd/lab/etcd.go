package main

import (
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/images/etcdbin"
)

func etcdCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "etcd",
		Usage: "build or fetch the etcd and etcdctl binaries the guests run",
		Description: `The nodes run the etcd binary carried on their seed ISO. 'lab etcd build' builds
it from the Go module proxy (default: the version pinned in go.mod), 'lab etcd
fetch' downloads an official release (for example v3.4.7, the version of the
original story) and verifies it against the release's SHA256SUMS. Both are
cached; 'lab create --etcd-binary PATH' takes any local binary instead.`,
		Subcommands: []*cli.Command{etcdBuildCommand(g), etcdFetchCommand(g)},
	}
}

func etcdBuildCommand(g *globals) *cli.Command {
	var opts struct {
		version string
		force   bool
	}
	return &cli.Command{
		Name:  "build",
		Usage: "build etcd and etcdctl from the Go modules (about 1 minute, then cached)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "version", Value: etcdbin.PinnedVersion(), Destination: &opts.version,
				Usage: "etcd release to build, v3.5.0 or later"},
			&cli.BoolFlag{Name: "force", Destination: &opts.force, Usage: "rebuild even when the cache has the version"},
		},
		Action: func(c *cli.Context) error {
			bins, err := etcdbin.Build(c.Context, etcdbin.BuildOptions{
				Cache: g.cache(), Version: opts.version, Force: opts.force, Status: g.status(), Logger: g.logger(),
			})
			if err != nil {
				return err
			}
			return g.printBinaries(bins)
		},
	}
}

func etcdFetchCommand(g *globals) *cli.Command {
	var opts struct {
		version string
		force   bool
	}
	return &cli.Command{
		Name:  "fetch",
		Usage: "download an official etcd release and verify it against its SHA256SUMS",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "version", Required: true, Destination: &opts.version,
				Usage: "etcd release, for example v3.4.7 (the story's) or " + etcdbin.PinnedVersion()},
			&cli.BoolFlag{Name: "force", Destination: &opts.force, Usage: "download again even when cached"},
		},
		Action: func(c *cli.Context) error {
			bins, err := etcdbin.Fetch(c.Context, etcdbin.FetchOptions{
				Cache: g.cache(), Version: opts.version, Force: opts.force, Status: g.status(), Logger: g.logger(),
			})
			if err != nil {
				return err
			}
			return g.printBinaries(bins)
		},
	}
}

func (g *globals) printBinaries(b *etcdbin.Binaries) error {
	if g.json() {
		return g.printJSON(b)
	}
	w := tabwriter.NewWriter(g.streams.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "version\t%s\nsource\t%s\netcd\t%s\netcdctl\t%s\n", b.Version, b.Source, b.Etcd, b.Etcdctl)
	names := make([]string, 0, len(b.SHA256))
	for name := range b.SHA256 {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "sha256 %s\t%s\n", name, b.SHA256[name])
	}
	return w.Flush()
}
