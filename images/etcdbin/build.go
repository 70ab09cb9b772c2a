package etcdbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/progress"
)

// Main packages of etcd 3.5 and later, each the root of its own module.
const (
	serverModule  = "go.etcd.io/etcd/server/v3"
	etcdctlModule = "go.etcd.io/etcd/etcdctl/v3"
)

// BuildOptions says which etcd to build and where to keep it.
type BuildOptions struct {
	// Cache receives the binaries.
	Cache *cache.Cache
	// Version is the etcd release to build, 3.5.0 or later; empty means
	// PinnedVersion.
	Version string
	// Force rebuilds even when the cache has the version.
	Force bool
	// Progress and Logger report progress; both may be nil.
	Progress *progress.Printer
	Logger   *slog.Logger
	// GoBinary is the go command to use; empty means "go" from PATH.
	GoBinary string
}

// Build compiles etcd and etcdctl for linux/amd64 from the Go module proxy
// and stores them in the cache, or returns the cached pair when it is
// already there (unless Force).
//
// `go install module@version` cannot build etcd (its modules use replace
// directives), so Build makes a throwaway module that requires the server
// and etcdctl modules at the same version and builds their main packages.
// GOPATH and GOFLAGS are left alone, so Go's module and build caches make a
// forced rebuild much faster than the first.
func Build(ctx context.Context, opts BuildOptions) (*Binaries, error) {
	name := opts.Version
	if name == "" {
		name = PinnedVersion()
	}
	v, err := parseVersion(name)
	if err != nil {
		return nil, err
	}
	if !v.buildable() {
		return nil, fmt.Errorf("cannot build etcd %s from Go modules: releases before v3.%d.0 are not published as Go modules; "+
			"run `lab etcd fetch --version %s` for the official release, or pass --etcd-binary PATH", v, minBuildMinor, v)
	}
	if opts.Cache == nil {
		return nil, errors.New("building etcd: no cache given")
	}
	if !opts.Force {
		b, replace, err := fromCache(opts.Cache, v, originBuilt, opts.Progress, "building")
		if err != nil || b != nil {
			return b, err
		}
		opts.Force = replace
	}
	b, err := build(ctx, v, opts)
	if err != nil {
		return nil, fmt.Errorf("building etcd %s: %w", v, err)
	}
	return b, nil
}

func build(ctx context.Context, v version, opts BuildOptions) (*Binaries, error) {
	goBin := opts.GoBinary
	if goBin == "" {
		goBin = "go"
	}
	goPath, err := exec.LookPath(goBin)
	if err != nil {
		return nil, fmt.Errorf("finding the go command: %w (install Go, or use `lab etcd fetch` instead)", err)
	}
	g := goRunner{path: goPath, log: opts.Logger}

	stage, err := opts.Cache.Stage(Kind)
	if err != nil {
		return nil, err
	}
	defer stage.Abort()
	work, err := os.MkdirTemp("", "lab-etcd-build-")
	if err != nil {
		return nil, fmt.Errorf("creating build module directory: %w", err)
	}
	defer os.RemoveAll(work)

	goVersion, err := g.output(ctx, work, nil, "env", "GOVERSION")
	if err != nil {
		return nil, err
	}
	steps := []struct {
		title string
		env   []string
		args  []string
	}{
		{"creating build module", nil, []string{"mod", "init", "labetcdbuild"}},
		{"downloading etcd " + v.String() + " modules", nil,
			[]string{"get", serverModule + "@" + v.String(), etcdctlModule + "@" + v.String()}},
		{"compiling etcd " + v.String(), crossEnv,
			[]string{"build", "-trimpath", "-o", filepath.Join(stage.Dir, EtcdFile), serverModule}},
		{"compiling etcdctl " + v.String(), crossEnv,
			[]string{"build", "-trimpath", "-o", filepath.Join(stage.Dir, EtcdctlFile), etcdctlModule}},
	}
	for _, s := range steps {
		end := opts.Progress.Start("%s", s.title)
		_, err := g.output(ctx, work, s.env, s.args...)
		end(err)
		if err != nil {
			return nil, err
		}
	}
	etcd, etcdctl := filepath.Join(stage.Dir, EtcdFile), filepath.Join(stage.Dir, EtcdctlFile)
	if err := checkExecutable(etcd); err != nil {
		return nil, fmt.Errorf("checking the built etcd: %w", err)
	}
	if hostRunsGuestBinaries() {
		if err := checkVersions(ctx, v.String(), etcd, etcdctl); err != nil {
			return nil, fmt.Errorf("checking the built binaries: %w", err)
		}
	}
	m := cache.Manifest{
		Name:   "etcd " + v.String(),
		Source: SourceBuilt,
		Metadata: map[string]string{
			metaVersion: v.String(),
			metaOrigin:  originBuilt,
			metaGo:      goVersion,
		},
	}
	commit := stage.Commit
	if opts.Force {
		commit = stage.Replace
	}
	e, err := commit(cacheKey(v, originBuilt), m)
	if err != nil {
		return nil, err
	}
	opts.Progress.Printf("etcd %s and etcdctl built with %s into %s", v, goVersion, e.Dir)
	return fromEntry(e)
}

// crossEnv builds static linux/amd64 binaries whatever the host is.
var crossEnv = []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}

// goRunner runs the go command in the throwaway build module.
type goRunner struct {
	path string
	log  *slog.Logger
}

// output runs go with args in dir and returns its trimmed standard output.
// On failure the error carries the command and the end of its output.
func (g goRunner) output(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, g.path, args...)
	cmd.Dir = dir
	// GOWORK=off: a go.work in the caller's environment must not pull the
	// throwaway module into someone else's workspace.
	cmd.Env = append(append(os.Environ(), "GOWORK=off"), env...)
	// The go command starts compilers and linkers; cancelling must stop
	// them too, so kill the whole process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	line := "go " + strings.Join(args, " ")
	begin := time.Now()
	err := cmd.Run()
	if g.log != nil {
		g.log.Debug("ran go command", "cmd", line, "env", env, "dir", dir,
			"elapsed", time.Since(begin).Round(time.Millisecond), "err", err, "stderr", stderr.String())
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("running %s: %w", line, ctx.Err())
		}
		return "", fmt.Errorf("running %s: %w: %s", line, err, tail(stderr.Bytes(), 10))
	}
	return strings.TrimSpace(stdout.String()), nil
}
