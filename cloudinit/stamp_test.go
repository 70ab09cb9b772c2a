package cloudinit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kdomanski/iso9660"
)

func writeStampedISO(t *testing.T, path string, seed Seed) []byte {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := WriteISO(f, seed); err != nil {
		t.Fatal(err)
	}
	if err := ClearISODates(f, f); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestClearISODatesMakesTheISORepeatable(t *testing.T) {
	seed := Seed{MetaData: []byte("instance-id: x\n"), UserData: []byte("#cloud-config\n")}
	dir := t.TempDir()
	first := writeStampedISO(t, filepath.Join(dir, "a.iso"), seed)
	time.Sleep(1100 * time.Millisecond) // the writer's clock has one-second resolution
	second := writeStampedISO(t, filepath.Join(dir, "b.iso"), seed)
	if !bytes.Equal(first, second) {
		t.Fatal("the same seed written a second later gave different bytes")
	}
	img, err := iso9660.OpenImage(bytes.NewReader(first))
	if err != nil {
		t.Fatalf("the stamped ISO no longer reads: %v", err)
	}
	if label, err := img.Label(); err != nil || label != VolumeLabel {
		t.Fatalf("label = %q, %v", label, err)
	}
}

func TestClearISODatesRefusesWhatIsNotAnISO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "not.iso")
	if err := os.WriteFile(p, make([]byte, 40000), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := ClearISODates(f, f); err == nil {
		t.Fatal("cleared dates in a file that is not an ISO")
	}
}
