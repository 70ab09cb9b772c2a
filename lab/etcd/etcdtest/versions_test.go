package etcdtest

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestEtcdModulesMoveTogether checks that every etcd module this module
// builds with, the server and etcdctl included, is at the version the main
// module pins for its client: the version `lab etcd build` builds and the
// lab's client speaks to. A bump of the main module's client without this
// module's go.mod (or the reverse) fails here.
func TestEtcdModulesMoveTogether(t *testing.T) {
	main, err := os.ReadFile("../../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*go\.etcd\.io/etcd/client/v3 (v\S+)`).FindSubmatch(main)
	if m == nil {
		t.Fatal("the main module's go.mod does not require go.etcd.io/etcd/client/v3")
	}
	pinned := string(m[1])
	cmd := exec.CommandContext(t.Context(), "go", "list", "-m", "-f", "{{.Path}} {{.Version}}", "all")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("listing this module's build list: %v", err)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, version, _ := strings.Cut(line, " ")
		if !strings.HasPrefix(path, "go.etcd.io/etcd/") {
			continue
		}
		seen++
		if version != pinned {
			t.Errorf("%s is at %s, the main module's etcd client at %s: keep every etcd module at one version", path, version, pinned)
		}
	}
	if seen < 6 {
		t.Errorf("found %d etcd modules in the build list, want at least api, client/pkg, client, pkg, server and etcdctl:\n%s", seen, out)
	}
}
