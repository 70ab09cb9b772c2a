package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func renderFixture(t *testing.T) (*fixture, RenderInputs, []NodeSeed) {
	t.Helper()
	f := newFixture(t)
	keys, err := EnsureKeys(f.store, f.opts.Plan)
	if err != nil {
		t.Fatal(err)
	}
	in := RenderInputs{Plan: f.opts.Plan, PKI: keys, Etcd: f.opts.Etcd}
	seeds, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	return f, in, seeds
}

// A planted symbolic link and a world-writable file in --out: render is
// refused without --force; with it, the key files are 0600 regular files
// and the link's target is unchanged.
func TestRenderNeverWritesThroughLinksOrOldModes(t *testing.T) {
	_, in, seeds := renderFixture(t)
	out, elsewhere := t.TempDir(), t.TempDir()
	target := filepath.Join(elsewhere, "victim")
	if err := os.WriteFile(target, []byte("someone else's file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(out, "kubernetes-key.pem")); err != nil {
		t.Fatal(err)
	}
	node := filepath.Join(out, "k8smaster0")
	if err := os.Mkdir(node, 0o777); err != nil {
		t.Fatal(err)
	}
	userData := filepath.Join(node, "user-data")
	if err := os.WriteFile(userData, []byte("old"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(userData, 0o666); err != nil { // past the umask
		t.Fatal(err)
	}
	// A node directory that is a link to somewhere else is never written into.
	if err := os.Symlink(elsewhere, filepath.Join(out, "k8smaster1")); err != nil {
		t.Fatal(err)
	}

	err := WriteRender(out, in, seeds, false)
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("render into a foreign non-empty directory: %v, want a refusal naming --force", err)
	}
	err = WriteRender(out, in, seeds, true)
	if err == nil || !strings.Contains(err.Error(), "k8smaster1") {
		t.Fatalf("render with a linked node directory: %v, want a refusal naming it", err)
	}
	if err := os.Remove(filepath.Join(out, "k8smaster1")); err != nil {
		t.Fatal(err)
	}
	if err := WriteRender(out, in, seeds, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "someone else's file" {
		t.Errorf("the symbolic link's target now holds %q", b)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 1 {
		t.Errorf("%d files in the linked directory, want only the victim", len(entries))
	}
	for _, rel := range []string{"kubernetes-key.pem", "k8smaster0/user-data", "k8smaster0/seed.iso", "k8smaster1/user-data", "k8smaster2/seed.iso"} {
		fi, err := os.Lstat(filepath.Join(out, rel))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want a regular 0600 file", rel, fi.Mode(), err)
		}
	}
	// An earlier render of the same lab may be replaced without --force.
	if err := WriteRender(out, in, seeds, false); err != nil {
		t.Errorf("render over an earlier render of the same lab: %v", err)
	}
	// One of another lab may not.
	other := *in.Plan
	other.Spec.Name = "other"
	in.Plan = &other
	if err := WriteRender(out, in, seeds, false); err == nil {
		t.Error("render over another lab's render succeeded without --force")
	}
}
