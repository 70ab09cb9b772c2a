package etcdbin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/images/cache"
)

// fakeGo is a go command that records its calls in $FAKE_GO_LOG, fails the
// subcommand named in $FAKE_GO_FAIL, and "builds" by copying the fake etcd
// ($FAKE_ETCD) with the version from `go get` appended.
const fakeGo = `#!/bin/sh
echo "$*" >> "$FAKE_GO_LOG"
if [ "$1" = "$FAKE_GO_FAIL" ]; then echo "go: simulated failure of $1" >&2; exit 1; fi
case "$1" in
env) echo go1.99-fake ;;
mod) [ -e go.mod ] && exit 1; echo "module $3" > go.mod ;;
get) [ -e go.mod ] || exit 1; echo "$2" | sed 's/.*@v//' > version ;;
build)
	[ "$CGO_ENABLED/$GOOS/$GOARCH/$GOWORK" = "0/linux/amd64/off" ] || { echo "bad env" >&2; exit 1; }
	cp "$FAKE_ETCD" "$4" && printf '` + `\nLAB-FAKE-ETCD-VERSION=%s\n` + `' "$(cat version)" >> "$4" ;;
*) exit 1 ;;
esac
`

type fakeGoEnv struct {
	goBin string
	log   string
}

// setupFakeGo installs fakeGo and a plain fake etcd (the test binary) for
// it to copy.
func setupFakeGo(t *testing.T) fakeGoEnv {
	dir := t.TempDir()
	env := fakeGoEnv{goBin: filepath.Join(dir, "go"), log: filepath.Join(dir, "go.log")}
	if err := os.WriteFile(env.goBin, []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE_ETCD", exe)
	t.Setenv("FAKE_GO_LOG", env.log)
	t.Setenv("FAKE_GO_FAIL", "")
	return env
}

func (f fakeGoEnv) calls(t *testing.T) []string {
	data, err := os.ReadFile(f.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func TestBuildRunsGoAndCaches(t *testing.T) {
	fake := setupFakeGo(t)
	c := &cache.Cache{Root: t.TempDir()}
	b, err := Build(t.Context(), BuildOptions{Cache: c, Version: "v3.5.21", GoBinary: fake.goBin})
	if err != nil {
		t.Fatal(err)
	}
	calls := fake.calls(t)
	stage := filepath.Join(c.Root, "tmp")
	want := []string{
		"env GOVERSION",
		"mod init labetcdbuild",
		"get go.etcd.io/etcd/server/v3@v3.5.21 go.etcd.io/etcd/etcdctl/v3@v3.5.21",
		"build -trimpath -o " + stage + "/etcd-*/etcd go.etcd.io/etcd/server/v3",
		"build -trimpath -o " + stage + "/etcd-*/etcdctl go.etcd.io/etcd/etcdctl/v3",
	}
	if len(calls) != len(want) {
		t.Fatalf("go calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if ok, _ := filepath.Match(want[i], calls[i]); !ok {
			t.Errorf("go call %d = %q, want %q", i, calls[i], want[i])
		}
	}
	if b.Version != "v3.5.21" || b.Source != SourceBuilt {
		t.Errorf("binaries = %+v", b)
	}
	wantDir := filepath.Join(c.Root, "etcd", "v3.5.21-built-linux-amd64")
	if b.Etcd != filepath.Join(wantDir, "etcd") || b.Etcdctl != filepath.Join(wantDir, "etcdctl") {
		t.Errorf("paths %s %s, want them in %s", b.Etcd, b.Etcdctl, wantDir)
	}
	if len(b.SHA256[EtcdFile]) != 64 || len(b.SHA256[EtcdctlFile]) != 64 {
		t.Errorf("SHA256 = %v", b.SHA256)
	}
	e, err := c.Lookup(Kind, "v3.5.21-built-linux-amd64")
	if err != nil {
		t.Fatal(err)
	}
	if e.Manifest.Source != SourceBuilt || e.Manifest.Metadata[metaGo] != "go1.99-fake" || e.Manifest.Metadata[metaVersion] != "v3.5.21" {
		t.Errorf("manifest = %+v", e.Manifest)
	}

	// Warm: no go command runs, and it is quick.
	begin := time.Now()
	again, err := Build(t.Context(), BuildOptions{Cache: c, Version: "3.5.21", GoBinary: fake.goBin})
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(begin); elapsed > 500*time.Millisecond {
		t.Errorf("warm build took %s", elapsed)
	}
	if n := len(fake.calls(t)); n != len(want) || again.Etcd != b.Etcd {
		t.Errorf("warm build ran go %d more times and returned %s", n-len(want), again.Etcd)
	}

	// Force runs the whole build again and replaces the entry.
	if _, err := Build(t.Context(), BuildOptions{Cache: c, Version: "v3.5.21", GoBinary: fake.goBin, Force: true}); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.calls(t)); n != 2*len(want) {
		t.Errorf("forced build: %d go calls in all, want %d", n, 2*len(want))
	}
	if files := cacheFiles(t, c.Root); len(files) != 3 {
		t.Errorf("cache holds %v, want one entry of three files", files)
	}

	// A damaged entry is rebuilt without --force.
	if err := os.Remove(b.Etcdctl); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(t.Context(), BuildOptions{Cache: c, Version: "v3.5.21", GoBinary: fake.goBin}); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.calls(t)); n != 3*len(want) {
		t.Errorf("damaged entry: %d go calls in all, want %d", n, 3*len(want))
	}
	if _, err := Resolve(c, "v3.5.21"); err != nil {
		t.Errorf("after the rebuild: %v", err)
	}
}

func TestBuildDefaultsToPinnedVersion(t *testing.T) {
	fake := setupFakeGo(t)
	c := &cache.Cache{Root: t.TempDir()}
	b, err := Build(t.Context(), BuildOptions{Cache: c, GoBinary: fake.goBin})
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != PinnedVersion() {
		t.Errorf("version = %s, want the pinned %s", b.Version, PinnedVersion())
	}
}

func TestBuildFailures(t *testing.T) {
	tests := []struct {
		name    string
		version string
		fail    string
		goBin   string
		want    []string
	}{
		{name: "etcd 3.4", version: "v3.4.7", want: []string{"cannot build etcd v3.4.7", "lab etcd fetch --version v3.4.7", "--etcd-binary"}},
		{name: "invalid version", version: "3.6", want: []string{"invalid etcd version", "v3.4.7"}},
		{name: "go get fails", version: "v3.6.16", fail: "get", want: []string{"building etcd v3.6.16", "running go get", "simulated failure of get"}},
		{name: "go build fails", version: "v3.6.16", fail: "build", want: []string{"running go build", "simulated failure of build"}},
		{name: "no go command", version: "v3.6.16", goBin: "/nonexistent/go", want: []string{"finding the go command", "lab etcd fetch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := setupFakeGo(t)
			t.Setenv("FAKE_GO_FAIL", tt.fail)
			goBin := fake.goBin
			if tt.goBin != "" {
				goBin = tt.goBin
			}
			c := &cache.Cache{Root: t.TempDir()}
			_, err := Build(t.Context(), BuildOptions{Cache: c, Version: tt.version, GoBinary: goBin})
			if err == nil {
				t.Fatal("Build succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if files := cacheFiles(t, c.Root); len(files) != 0 {
				t.Errorf("cache holds %v after a failed build", files)
			}
		})
	}
}

func TestBuildRejectsWrongVersionOutput(t *testing.T) {
	fake := setupFakeGo(t)
	// The "module proxy" hands out another version than asked for.
	script, err := os.ReadFile(fake.goBin)
	if err != nil {
		t.Fatal(err)
	}
	script = []byte(strings.Replace(string(script), `"$(cat version)"`, `"3.6.15"`, 1))
	if err := os.WriteFile(fake.goBin, script, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &cache.Cache{Root: t.TempDir()}
	_, err = Build(t.Context(), BuildOptions{Cache: c, Version: "v3.6.16", GoBinary: fake.goBin})
	if err == nil || !strings.Contains(err.Error(), "reports version v3.6.15, want v3.6.16") {
		t.Fatalf("err = %v, want a version mismatch", err)
	}
	if files := cacheFiles(t, c.Root); len(files) != 0 {
		t.Errorf("cache holds %v after a failed build", files)
	}
}

func TestBuildCancelled(t *testing.T) {
	fake := setupFakeGo(t)
	script := strings.Replace(fakeGo, "case \"$1\" in", "[ \"$1\" = get ] && sleep 30\ncase \"$1\" in", 1)
	if err := os.WriteFile(fake.goBin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	c := &cache.Cache{Root: t.TempDir()}
	_, err := Build(ctx, BuildOptions{Cache: c, Version: "v3.6.16", GoBinary: fake.goBin})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if elapsed := time.Since(begin); elapsed > 5*time.Second {
		t.Errorf("cancelled build took %s to return; the go process group was not killed", elapsed)
	}
	if files := cacheFiles(t, c.Root); len(files) != 0 {
		t.Errorf("cache holds %v after a cancelled build", files)
	}
}
