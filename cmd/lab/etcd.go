package main

import (
	"cmp"
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/etcdbin"
)

func etcdCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "etcd",
		Usage: "build or fetch the etcd and etcdctl binaries the guests run",
		Description: `The nodes run the etcd binary carried on their seed ISO. 'lab etcd build' builds
it from the Go module proxy (default: the version pinned in go.mod), 'lab etcd
fetch' downloads an official release (for example v3.4.7, the version of the
original story) and verifies it against the release's SHA256SUMS; with --from
debian it takes Debian bookworm's etcd-server and etcd-client (3.4.23, the
story's generation) from the Debian archive, verified from the suite's signed
InRelease down to each package. All are cached ('lab etcd list' shows them);
'lab create --etcd-binary PATH' takes any local binary instead.`,
		Subcommands: []*cli.Command{etcdBuildCommand(g), etcdFetchCommand(g), etcdListCommand(g)},
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
				Cache: images.OpenCache(g.CacheDir), Version: opts.version, Force: opts.force, Progress: g.printer(), Logger: g.logger(),
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
		version, from, mirror, suite, keyring string
		force                                 bool
	}
	return &cli.Command{
		Name:  "fetch",
		Usage: "download an official etcd release (or Debian's package) and verify it",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "version", Required: true, Destination: &opts.version,
				Usage: "etcd release, for example v3.4.7 (the story's), " + etcdbin.PinnedVersion() + ", or v3.4.23 with --from debian"},
			&cli.StringFlag{Name: "from", Value: "release", Destination: &opts.from,
				Usage: "release (etcd's GitHub release, checked against its SHA256SUMS) or debian (the Debian archive's etcd-server and etcd-client, checked from the signed InRelease)"},
			&cli.StringFlag{Name: "debian-mirror", Value: etcdbin.DefaultDebianMirror, Destination: &opts.mirror, Usage: "with --from debian: the archive"},
			&cli.StringFlag{Name: "debian-suite", Value: etcdbin.DefaultDebianSuite, Destination: &opts.suite, Usage: "with --from debian: the suite"},
			&cli.StringFlag{Name: "debian-keyring", Value: etcdbin.DefaultDebianKeyring, Destination: &opts.keyring,
				Usage: "with --from debian: the keyring gpgv checks InRelease against (when absent, the signature is not checked, and lab says so)"},
			&cli.BoolFlag{Name: "force", Destination: &opts.force, Usage: "download again even when cached"},
		},
		Action: func(c *cli.Context) error {
			fo := etcdbin.FetchOptions{
				Cache: images.OpenCache(g.CacheDir), Version: opts.version, Force: opts.force, Progress: g.printer(), Logger: g.logger(),
			}
			if opts.from != etcdbin.SourceDebian {
				for _, name := range []string{"debian-mirror", "debian-suite", "debian-keyring"} {
					if c.IsSet(name) {
						return fmt.Errorf("--%s applies only with --from debian", name)
					}
				}
			}
			var bins *etcdbin.Binaries
			var err error
			switch opts.from {
			case "release":
				bins, err = etcdbin.Fetch(c.Context, fo)
			case etcdbin.SourceDebian:
				bins, err = etcdbin.FetchDebian(c.Context, etcdbin.DebianOptions{FetchOptions: fo,
					Mirror: opts.mirror, Suite: opts.suite, Keyring: opts.keyring})
			default:
				return fmt.Errorf("--from %q: want release or debian", opts.from)
			}
			if err != nil {
				return err
			}
			return g.printBinaries(bins)
		},
	}
}

func (g *globals) printBinaries(b *etcdbin.Binaries) error {
	if g.json() {
		return g.printJSON(newBinariesJSON(*b))
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

func etcdListCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the etcd binaries in the cache",
		Action: func(*cli.Context) error {
			list, err := etcdbin.List(images.OpenCache(g.CacheDir))
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(newCachedJSON(list))
			}
			if len(list) == 0 {
				fmt.Fprintln(g.streams.out, "no etcd in the cache: 'lab etcd build', 'lab etcd fetch --version V' or 'lab etcd fetch --from debian --version v3.4.23'")
				return nil
			}
			w := tabwriter.NewWriter(g.streams.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tORIGIN\tDETAIL\tETCD")
			for _, b := range list {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", b.Version, b.Origin, cmp.Or(b.Detail, "–"), cmp.Or(b.Etcd, b.CacheDir))
			}
			return w.Flush()
		},
	}
}
