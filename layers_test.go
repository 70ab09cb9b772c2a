package lab_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// module is the import path prefix of this module's packages.
const module = "github.com/kthw-lab/lab/"

// layers are the project's layers, top first (docs/architecture.md): a
// package may import its own layer or any below it, never one above. The
// first prefix that matches a package's path decides its layer.
var layers = []struct {
	name     string
	prefixes []string
}{
	{"cmd", []string{"cmd/", "e2e"}},
	{"scenarios", []string{"scenarios"}},
	{"lab", []string{"lab"}},
	{"cloudinit, images", []string{"cloudinit", "images"}},
	{"leaves", []string{"progress", "internal"}},
}

// layerOf returns the index of the layer pkg (a path inside the module)
// belongs to, or -1 when no layer claims it.
func layerOf(pkg string) int {
	for i, l := range layers {
		for _, p := range l.prefixes {
			if pkg == p || strings.HasPrefix(pkg, p+"/") || strings.HasSuffix(p, "/") && strings.HasPrefix(pkg, p) {
				return i
			}
		}
	}
	return -1
}

// upward returns the imports in deps (package → its imports, module paths
// trimmed) that run up the layers, and the packages no layer claims.
func upward(deps map[string][]string) (bad, unclaimed []string) {
	for pkg, imports := range deps {
		from := layerOf(pkg)
		if from < 0 {
			unclaimed = append(unclaimed, pkg)
			continue
		}
		for _, imp := range imports {
			if to := layerOf(imp); to >= 0 && to < from {
				bad = append(bad, fmt.Sprintf("%s (%s) imports %s (%s)", pkg, layers[from].name, imp, layers[to].name))
			}
		}
	}
	return bad, unclaimed
}

func TestLayersRunOneWay(t *testing.T) {
	// Tests count too: a test that reaches up the layers ties them as
	// surely as the code does.
	out, err := exec.Command("go", "list", "-tags", "integration e2e", "-f",
		`{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, ok := strings.CutPrefix(f[0], module)
		if !ok {
			continue // the module's root holds only this test
		}
		deps[pkg] = nil
		for _, imp := range f[1:] {
			if imp, ok := strings.CutPrefix(imp, module); ok && imp != pkg {
				deps[pkg] = append(deps[pkg], imp)
			}
		}
	}
	if len(deps) < 20 {
		t.Fatalf("go list found only %d packages: %v", len(deps), deps)
	}
	bad, unclaimed := upward(deps)
	for _, b := range bad {
		t.Errorf("import runs up the layers: %s", b)
	}
	for _, u := range unclaimed {
		t.Errorf("package %s is in no layer: add it to layers (and docs/architecture.md)", u)
	}
}

// TestUpwardCatches proves the check can fail: an import from images up
// into lab, as images once had with lab/progress.
func TestUpwardCatches(t *testing.T) {
	bad, unclaimed := upward(map[string][]string{
		"images":            {"lab/progress", "images/cache"},
		"lab/virt":          {"lab/tunnel"},
		"scenarios/measure": {"lab/etcd"},
		"lab/etcd":          {"scenarios/report"},
		"tools/x":           nil,
	})
	if len(bad) != 2 {
		t.Errorf("found %d upward imports, want 2 (images→lab, lab→scenarios): %v", len(bad), bad)
	}
	if len(unclaimed) != 1 || unclaimed[0] != "tools/x" {
		t.Errorf("unclaimed = %v, want [tools/x]", unclaimed)
	}
}
