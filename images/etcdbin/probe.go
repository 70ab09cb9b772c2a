package etcdbin

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
)

// hostRunsGuestBinaries reports whether linux/amd64 binaries run here, so
// they can be asked for their version.
func hostRunsGuestBinaries() bool {
	return runtime.GOOS == "linux" && runtime.GOARCH == "amd64"
}

var (
	etcdVersionLine    = regexp.MustCompile(`(?m)^etcd Version: (\S+)`)
	etcdctlVersionLine = regexp.MustCompile(`(?m)^etcdctl version: (\S+)`)
)

// etcdVersion runs `etcd --version` and returns the version it prints,
// with a leading "v".
func etcdVersion(ctx context.Context, path string) (string, error) {
	return probe(ctx, etcdVersionLine, path, "--version")
}

// etcdctlVersion runs `etcdctl version` (etcdctl has no --version flag in
// every release) and returns the version it prints, with a leading "v".
func etcdctlVersion(ctx context.Context, path string) (string, error) {
	return probe(ctx, etcdctlVersionLine, path, "version")
}

func probe(ctx context.Context, line *regexp.Regexp, path string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	// A clean environment: etcd reads ETCD_* and etcdctl ETCDCTL_*
	// variables, and the caller's must not change what is probed.
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("running %s %s: %w: %s", path, strings.Join(args, " "), err, tail(out, 5))
	}
	m := line.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("running %s %s: no version in its output: %s", path, strings.Join(args, " "), tail(out, 5))
	}
	return "v" + strings.TrimPrefix(string(m[1]), "v"), nil
}

// checkVersions runs both binaries and checks they report want.
func checkVersions(ctx context.Context, want, etcd, etcdctl string) error {
	for _, p := range []struct {
		path string
		get  func(context.Context, string) (string, error)
	}{{etcd, etcdVersion}, {etcdctl, etcdctlVersion}} {
		got, err := p.get(ctx, p.path)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s reports version %s, want %s", p.path, got, want)
		}
	}
	return nil
}

// tail returns the last n non-empty lines of out, joined for an error
// message.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := strings.Join(lines, " | ")
	if s == "" {
		return "(no output)"
	}
	return s
}
