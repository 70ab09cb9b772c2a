//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkExport runs lab export on the running lab and checks that its files
// hold what they claim: etcd's journal lines, domain XML that parses, the
// member table with every node started, and no private key anywhere.
func checkExport(t *testing.T, ctx context.Context, state string, nodes []string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "export")
	out, err := runLab(t, ctx, state, "-o", "json", "export", dir)
	if err != nil {
		t.Fatalf("lab export: %v\n%s", err, out)
	}
	var x struct {
		Files []struct {
			File  string
			Bytes int
			Error string
		}
	}
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatalf("lab export JSON: %v\n%s", err, out)
	}
	for _, f := range x.Files {
		if f.Error != "" {
			t.Errorf("lab export could not write %s: %s", f.File, f.Error)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("export: %v", err)
		}
		return string(b)
	}
	for _, n := range nodes {
		if j := read(filepath.Join(n, "journal-etcd.log")); !strings.Contains(j, "etcd") || !strings.Contains(j, "raft") {
			t.Errorf("%s's exported journal has no etcd raft lines:\n%s", n, lastLines(j, 5))
		}
		var dom struct {
			Name string `xml:"name"`
		}
		if err := xml.Unmarshal([]byte(read(filepath.Join(n, "domain.xml"))), &dom); err != nil || !strings.HasSuffix(dom.Name, n) {
			t.Errorf("%s's exported domain XML: name %q, %v", n, dom.Name, err)
		}
		if s := read(filepath.Join(n, "cloud-init-status.txt")); !strings.Contains(s, "status: done") {
			t.Errorf("%s's exported cloud-init status is not done:\n%s", n, s)
		}
		if s := read(filepath.Join(n, "systemctl-status-etcd.txt")); !strings.Contains(s, "active (running)") {
			t.Errorf("%s's exported systemctl status of etcd is not running:\n%s", n, s)
		}
	}
	if m := read("members.txt"); strings.Count(m, "started") != len(nodes) {
		t.Errorf("exported member table does not have %d started members:\n%s", len(nodes), m)
	}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(path); strings.Contains(string(b), "PRIVATE KEY") {
				t.Errorf("export %s holds a private key", path)
			}
		}
		return nil
	})
	t.Logf("lab export wrote %d files", len(x.Files))
}

// checkStatusDegraded stops etcd on one node: lab status must exit 1 and
// name it in its JSON's degraded list; once etcd runs again, exit 0.
func checkStatusDegraded(t *testing.T, ctx context.Context, state, node string) {
	t.Helper()
	if out, err := runLab(t, ctx, state, "ssh", node, "--", "sudo", "systemctl", "stop", "etcd"); err != nil {
		t.Fatalf("stopping etcd on %s: %v\n%s", node, err, out)
	}
	out, err := runLab(t, ctx, state, "-o", "json", "status")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("lab status with etcd stopped on %s: %v, want exit status 1", node, err)
	}
	var r struct{ Degraded []string }
	jerr := json.Unmarshal([]byte(out), &r)
	// Other members may be electing too, if node led: node must be named.
	named := slices.ContainsFunc(r.Degraded, func(s string) bool { return strings.HasPrefix(s, node+":") })
	if jerr != nil || !named {
		t.Errorf("lab status JSON with etcd stopped on %s: degraded = %q (%v)\n%s", node, r.Degraded, jerr, out)
	}
	if out, err := runLab(t, ctx, state, "ssh", node, "--", "sudo", "systemctl", "start", "etcd"); err != nil {
		t.Fatalf("starting etcd on %s: %v\n%s", node, err, out)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := runLab(t, ctx, state, "status")
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lab status 2m after etcd restarted on %s: %v\n%s", node, err, out)
		}
		time.Sleep(3 * time.Second)
	}
}
