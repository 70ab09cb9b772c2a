// Package golden compares what a test produced with a file it keeps under
// testdata, and rewrites the file under `go test -update` after a
// deliberate change. Tests import it; the product never does.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// Update tells whether the run rewrites golden files (go test -update).
func Update() bool { return *update }

// Check compares got with the file at path, after writing got there under
// -update.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (go test -update writes it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it after a deliberate change)\n--- got ---\n%s\n--- want ---\n%s",
			path, got, want)
	}
}
