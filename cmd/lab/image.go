package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/progress"
)

func imageCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "image",
		Usage: "build, fetch and list base guest images",
		Subcommands: []*cli.Command{
			imageBuildCommand(g),
			imageFetchCommand(g),
			imageListCommand(g),
		},
	}
}

func imageBuildCommand(g *globals) *cli.Command {
	var opts struct {
		mirror, suite, boot string
		force               bool
	}
	return &cli.Command{
		Name:  "build",
		Usage: "build the base guest image from Debian packages (needs root; about 3 minutes, then cached)",
		Description: `Runs debootstrap (minbase, with systemd, the cloud kernel, cloud-init and
openssh-server), turns the root filesystem into a qcow2 disk without loop mounts
(mkfs.ext4 -d, qemu-img convert) and keeps the kernel and initrd beside it for
direct kernel boot. The mirror is the host's own apt mirror when its sources serve
the suite, else Debian's own (an Ubuntu host, a GitHub runner), unless --mirror is
given; the build says which and why. A second build with the same inputs reuses the cached image; --force
rebuilds it.

--boot disk builds the same root filesystem as an image that boots from its
own disk, as a cloud image does: an MBR partition table (sfdisk on the file),
the filesystem in partition 1 (mkfs.ext4 -E offset) and GRUB for BIOS in the
boot sectors (grub-mkimage; needs grub-pc-bin). It is cached as "debian-12-disk"
beside the default image; use it with 'lab create --image debian-12-disk'.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "mirror", Destination: &opts.mirror, DefaultText: "the host's apt mirror when it serves the suite, else " + images.DebianMirror, Usage: "Debian mirror URL"},
			&cli.StringFlag{Name: "suite", Value: images.DefaultSuite, Destination: &opts.suite, Usage: "Debian suite"},
			&cli.StringFlag{Name: "boot", Value: string(images.BootKernel), Destination: &opts.boot,
				Usage: "how VMs start the image: kernel (direct kernel boot) or disk (GRUB on a partitioned disk, like a cloud image)"},
			&cli.BoolFlag{Name: "force", Destination: &opts.force, Usage: "rebuild even when the cache has the image"},
		},
		Action: func(c *cli.Context) error {
			img, err := images.Build(c.Context, images.BuildOptions{
				Cache: images.OpenCache(g.CacheDir), Mirror: opts.mirror, Suite: opts.suite, Boot: images.Boot(opts.boot), Force: opts.force,
				Progress: g.printer(), Logger: g.logger(),
			})
			if err != nil {
				return err
			}
			return g.printImages([]images.Image{*img})
		},
	}
}

func imageFetchCommand(g *globals) *cli.Command {
	var distro string
	return &cli.Command{
		Name:  "fetch",
		Usage: "download an official cloud image and verify its published checksum",
		Description: fmt.Sprintf(`Downloads the distribution's cloud image (it boots from disk, not by direct
kernel boot) and checks it against the distribution's checksum file. An
interrupted download resumes; a checksum mismatch deletes it. Distros: %s.`,
			strings.Join(images.Distros(), ", ")),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "distro", Value: images.Distros()[0], Destination: &distro,
				Usage: "which image: " + strings.Join(images.Distros(), " or ")},
		},
		Action: func(c *cli.Context) error {
			img, err := images.Fetch(c.Context, images.FetchOptions{Cache: images.OpenCache(g.CacheDir), Distro: distro, Progress: g.printer()})
			if err != nil {
				return err
			}
			return g.printImages([]images.Image{*img})
		},
	}
}

func imageListCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the cached base images",
		Action: func(*cli.Context) error {
			list, err := images.List(images.OpenCache(g.CacheDir))
			if err != nil {
				return err
			}
			if len(list) == 0 && !g.json() {
				fmt.Fprintf(g.streams.err, "no images in %s: run 'lab image build' or 'lab image fetch'\n", g.CacheDir)
				return nil
			}
			return g.printImages(list)
		},
	}
}

func (g *globals) printImages(list []images.Image) error {
	if g.json() {
		if list == nil {
			list = []images.Image{}
		}
		return g.printJSON(list)
	}
	w := tabwriter.NewWriter(g.streams.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tBOOT\tSOURCE\tSIZE\tDIGEST\tCREATED\tDISK")
	for _, img := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", img.Name, img.Boot, img.Source,
			progress.Bytes(img.Size), shortDigest(img.Digest), img.Created.Local().Format(time.DateTime), img.Disk)
	}
	return w.Flush()
}

// shortDigest keeps the algorithm and 12 hex digits: enough to tell images apart.
func shortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok {
		return d[:min(len(d), 12)]
	}
	return alg + ":" + hex[:min(len(hex), 12)]
}
