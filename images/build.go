package images

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/progress"
)

// BuildOptions is a request to build the base image from Debian packages.
type BuildOptions struct {
	// Cache stores the image; nil means the default cache.
	Cache *cache.Cache
	// Mirror is the Debian mirror URL; empty means the first one in the
	// host's apt sources that serves Suite, else Debian's (ChooseMirror).
	Mirror string
	// Suite is the Debian suite; empty means DefaultSuite.
	Suite string
	// Boot is how VMs will start the image: BootKernel (also when empty)
	// keeps the kernel and initrd beside a whole-disk filesystem for direct
	// kernel boot; BootDisk partitions the disk and installs GRUB, like a
	// cloud image.
	Boot Boot
	// Force rebuilds even when the cache holds an image built from the
	// same inputs, and replaces it.
	Force bool
	// Progress receives one line per step; nil discards them.
	Progress *progress.Printer
	// Logger receives the output of the programs; nil discards it.
	Logger *slog.Logger
	// Runner runs the programs; nil means HostRunner.
	Runner Runner
}

// builder is one Build, with its host dependencies made replaceable.
type builder struct {
	opts    BuildOptions
	cache   *cache.Cache
	inputs  buildInputs
	status  *progress.Printer
	run     Runner
	geteuid func() int
	hostFS  fs.FS // the host's root, for the apt sources
	grubDir string
	now     func() time.Time
}

func newBuilder(opts BuildOptions) (*builder, error) {
	arch, err := debArch(runtime.GOARCH)
	if err != nil {
		return nil, err
	}
	suite := opts.Suite
	if suite == "" {
		suite = DefaultSuite
	}
	boot, err := parseBoot(string(opts.Boot))
	if err != nil {
		return nil, err
	}
	if boot == BootDisk {
		if err := checkDiskArch(arch); err != nil {
			return nil, err
		}
	}
	b := &builder{
		opts:    opts,
		cache:   opts.Cache,
		inputs:  buildInputs{Suite: suite, Arch: arch, Packages: Packages(arch), Boot: boot},
		status:  opts.Progress,
		run:     opts.Runner,
		geteuid: os.Geteuid,
		hostFS:  os.DirFS("/"),
		grubDir: defaultGrubDir,
		now:     time.Now,
	}
	if b.cache == nil {
		b.cache = cache.New("")
	}
	if b.run == nil {
		b.run = HostRunner{Logger: opts.Logger}
	}
	return b, nil
}

// Build returns the base image for opts.Suite, building it unless the
// cache already holds one built from the same inputs. The build runs in
// staging directories of the cache and is committed only when complete.
func Build(ctx context.Context, opts BuildOptions) (*Image, error) {
	b, err := newBuilder(opts)
	if err != nil {
		return nil, fmt.Errorf("building image: %w", err)
	}
	return b.build(ctx)
}

func (b *builder) build(ctx context.Context) (*Image, error) {
	name, key := b.inputs.name(), b.inputs.Key()
	if !b.opts.Force {
		e, err := b.cache.Lookup(Kind, key)
		if err == nil {
			b.status.Printf("image %s is cached (%s)", name, e.Dir)
			return fromEntry(e)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("building image %s: %w", name, err)
		}
	}
	img, err := b.buildNew(ctx, name, key)
	if err != nil {
		return nil, fmt.Errorf("building image %s: %w", name, err)
	}
	return img, nil
}

func (b *builder) buildNew(ctx context.Context, name, key string) (*Image, error) {
	if err := b.preflight(); err != nil {
		return nil, err
	}
	mirror := b.opts.Mirror
	if mirror == "" {
		var why string
		mirror, why = ChooseMirror(b.hostFS, b.inputs.Suite)
		b.status.Printf("mirror %s: %s", mirror, why)
	}
	start := b.now()

	// The root filesystem and the raw disk are scratch: they live in a
	// staging directory of their own that is never committed.
	work, err := b.cache.Stage("rootfs")
	if err != nil {
		return nil, err
	}
	defer work.Abort()
	out, err := b.cache.Stage(Kind)
	if err != nil {
		return nil, err
	}
	defer out.Abort()

	s := &buildRun{builder: b, mirror: mirror, work: work.Dir, out: out.Dir,
		meta: map[string]string{}}
	for _, step := range s.steps() {
		end := b.status.Start("%s", step.what)
		err := step.do(ctx)
		end(err)
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}

	s.meta[metaBoot] = string(b.inputs.Boot)
	s.meta[metaSuite] = b.inputs.Suite
	s.meta[metaMirror] = mirror
	s.meta[metaArch] = b.inputs.Arch
	s.meta[metaVirtualSize] = fmt.Sprint(diskSize)
	s.meta["packages_requested"] = strings.Join(b.inputs.Packages, ",")
	s.meta["build_seconds"] = fmt.Sprintf("%.0f", b.now().Sub(start).Seconds())
	m := cache.Manifest{Name: name, Source: "built", Created: b.now().UTC(), Metadata: s.meta}
	commit := out.Commit
	if b.opts.Force {
		commit = out.Replace
	}
	e, err := commit(key, m)
	if err != nil {
		return nil, err
	}
	b.status.Printf("image %s stored in %s", name, e.Dir)
	return fromEntry(e)
}

type buildStep struct {
	what string
	do   func(context.Context) error
}

// steps are the build's steps for its boot mode. Both start from the same
// root filesystem; they differ in how the disk is laid out and where the
// kernel goes.
func (s *buildRun) steps() []buildStep {
	first := []buildStep{
		{fmt.Sprintf("debootstrap %s from %s", s.inputs.Suite, s.mirror), s.debootstrap},
		{"configuring the root filesystem", s.configure},
		{"recording package versions", s.packages},
	}
	last := buildStep{"converting the disk to qcow2", s.convert}
	if s.inputs.Boot == BootDisk {
		return append(first,
			buildStep{"writing grub.cfg and GRUB's modules into /boot/grub", s.grubFiles},
			buildStep{"partitioning the disk (MBR, one partition at 1 MiB)", s.partition},
			buildStep{"making the ext4 filesystem in partition 1", s.mkfsPartition},
			buildStep{"writing GRUB into the boot sectors", s.bootSectors},
			last)
	}
	return append(first,
		buildStep{"copying the kernel and initrd", s.kernel},
		buildStep{"making the ext4 filesystem", s.mkfs},
		last)
}

type tool struct{ program, pkg string }

// tools are the programs a build runs and the Debian packages that have
// them.
var tools = []tool{
	{"debootstrap", "debootstrap"},
	{"mkfs.ext4", "e2fsprogs"},
	{"qemu-img", "qemu-utils"},
	{"chroot", "coreutils"},
	{"dpkg-query", "dpkg"},
}

// diskTools are the further programs a BootDisk build runs.
var diskTools = []tool{
	{"sfdisk", "fdisk"},
	{"grub-mkimage", "grub-common"},
}

// preflight checks privileges and programs before anything is written.
// Root comes first: debootstrap and mkfs.ext4 live in /usr/sbin, which is
// often not on an ordinary user's PATH, so a missing-program verdict is
// only trustworthy for root.
func (b *builder) preflight() error {
	if b.geteuid() != 0 {
		return errNotRoot
	}
	var missing, pkgs []string
	need := tools
	if b.inputs.Boot == BootDisk {
		need = append(slices.Clone(tools), diskTools...)
	}
	for _, t := range need {
		if _, err := b.run.LookPath(t.program); err != nil {
			missing = append(missing, t.program)
			pkgs = append(pkgs, t.pkg)
		}
	}
	if b.inputs.Boot == BootDisk && b.grubMissing() {
		missing = append(missing, b.grubDir+"/boot.img")
		pkgs = append(pkgs, "grub-pc-bin")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not found: install with: apt-get install -y %s",
			strings.Join(missing, ", "), strings.Join(pkgs, " "))
	}
	return nil
}
