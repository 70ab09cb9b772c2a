package guest

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// TestCarryInstallsAndSkips runs the real scripts on this machine, with
// LabBinary moved into a temporary directory: the upload lands
// byte for byte, the current check then says so, and a copy whose sha256
// differs is never put in place.
func TestCarryInstallsAndSkips(t *testing.T) {
	exe, _ := os.Executable() // any file stands in for the program here
	c := Carried{Path: exe}
	h, err := hashFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	c.SHA256 = h
	// Every path in the scripts is under LabBinary's directory: move it.
	dir := filepath.Join(t.TempDir(), "lib")
	dest := filepath.Join(dir, filepath.Base(LabBinary))
	moved := func(script string) string {
		t.Helper()
		s := strings.ReplaceAll(script, path.Dir(LabBinary), dir)
		if strings.Contains(s, "/usr/") {
			t.Fatalf("the script has a path outside %s:\n%s", path.Dir(LabBinary), s)
		}
		return s
	}
	run := func(script string, carry bool) string {
		t.Helper()
		cmd := exec.Command("sh", "-c", moved(script))
		if carry {
			r, err := c.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			cmd.Stdin = r
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s\n%s", err, out, script)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run(c.CurrentScript(), false); got != "" {
		t.Fatalf("before the upload, current says %q", got)
	}
	run(c.InstallScript(), true)
	want, _ := os.ReadFile(exe)
	got, err := os.ReadFile(dest)
	if err != nil || string(got) != string(want) {
		t.Fatalf("installed %d bytes (%v), want the %d of %s", len(got), err, len(want), exe)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %s", fi.Mode())
	}
	if got := run(c.CurrentScript(), false); got != Current {
		t.Fatalf("after the upload, current says %q", got)
	}

	os.Remove(dest)
	c.SHA256 = strings.Repeat("0", 64)
	r, _ := c.Open()
	defer r.Close()
	cmd := exec.Command("sh", "-c", moved(c.InstallScript()))
	cmd.Stdin = r
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("a copy with another sha256 was installed:\n%s", out)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Fatal("a copy with another sha256 is in place")
	}
}
