//go:build integration

package etcdbin

import (
	"debug/elf"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/progress"
)

// logWriter sends progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestBuildPinnedVersionForReal builds the pinned etcd from the Go module
// proxy (about a minute on two cores), then checks the warm and forced
// paths. It reports the times it measured.
func TestBuildPinnedVersionForReal(t *testing.T) {
	c := &cache.Cache{Root: t.TempDir()}
	opts := BuildOptions{
		Cache:    c,
		Progress: progress.New(logWriter{t}, false),
		Logger:   slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	begin := time.Now()
	b, err := Build(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	cold := time.Since(begin)

	want := strings.TrimPrefix(PinnedVersion(), "v")
	out, err := exec.Command(b.Etcd, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("etcd --version: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "etcd Version: "+want) {
		t.Errorf("etcd --version printed %q, want version %s", out, want)
	}
	out, err = exec.Command(b.Etcdctl, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "etcdctl version: "+want) {
		t.Errorf("etcdctl version: %v: %q, want version %s", err, out, want)
	}
	for _, p := range []string{b.Etcd, b.Etcdctl} {
		f, err := elf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked; the guests need a static binary", p)
			}
		}
		f.Close()
	}

	begin = time.Now()
	again, err := Build(t.Context(), opts)
	warm := time.Since(begin)
	if err != nil {
		t.Fatal(err)
	}
	if again.SHA256[EtcdFile] != b.SHA256[EtcdFile] || warm > time.Second {
		t.Errorf("warm build took %s and returned %v, want the cached entry in well under a second", warm, again.SHA256)
	}

	opts.Force = true
	begin = time.Now()
	forced, err := Build(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	rebuild := time.Since(begin)
	// -trimpath and the same toolchain make the build reproducible.
	if forced.SHA256[EtcdFile] != b.SHA256[EtcdFile] {
		t.Logf("note: forced rebuild produced a different etcd digest: %s vs %s", forced.SHA256[EtcdFile], b.SHA256[EtcdFile])
	}
	if _, err := Resolve(c, ""); err != nil {
		t.Error(err)
	}
	t.Logf("etcd %s: first build %s, warm %s, forced rebuild %s", PinnedVersion(),
		cold.Round(100*time.Millisecond), warm.Round(time.Microsecond), rebuild.Round(100*time.Millisecond))
}

// TestBuildOtherVersionsForReal builds the versions listed in
// LAB_ETCD_EXTRA_VERSIONS (comma-separated, such as "v3.5.21"), to check
// that older module layouts still build. Each takes about a minute.
func TestBuildOtherVersionsForReal(t *testing.T) {
	list := os.Getenv("LAB_ETCD_EXTRA_VERSIONS")
	if list == "" {
		t.Skip("set LAB_ETCD_EXTRA_VERSIONS=v3.5.21 to build other etcd versions too")
	}
	for _, v := range strings.Split(list, ",") {
		t.Run(v, func(t *testing.T) {
			c := &cache.Cache{Root: t.TempDir()}
			begin := time.Now()
			b, err := Build(t.Context(), BuildOptions{Cache: c, Version: v, Progress: progress.New(logWriter{t}, false)})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(b.Etcd, "--version").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "etcd Version: "+strings.TrimPrefix(b.Version, "v")) {
				t.Errorf("etcd --version: %v: %q, want %s", err, out, b.Version)
			}
			t.Logf("etcd %s built in %s", b.Version, time.Since(begin).Round(100*time.Millisecond))
		})
	}
}
