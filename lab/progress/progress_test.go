package progress

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestStartEnd(t *testing.T) {
	var buf bytes.Buffer
	s := New(&buf, false)
	clock := time.Unix(0, 0)
	s.now = func() time.Time { return clock }
	end := s.Start("building %s", "image")
	clock = clock.Add(1500 * time.Millisecond)
	end(nil)
	end = s.Start("fetching")
	end(errors.New("boom"))
	want := "• building image ...\n✓ building image (1.5s)\n• fetching ...\n✗ fetching (0s): boom\n"
	if buf.String() != want {
		t.Fatalf("got %q, want %q", buf.String(), want)
	}
}

func TestNilStatusDiscards(t *testing.T) {
	var s *Status
	s.Printf("x")
	s.Start("y")(nil)
	w := s.Counter("z", 10)
	if n, err := w.Write([]byte("abc")); n != 3 || err != nil {
		t.Fatalf("write = %d, %v", n, err)
	}
}

func TestLineCounterPrintsTenSteps(t *testing.T) {
	var buf bytes.Buffer
	c := New(&buf, false).Counter("etcd.tar.gz", 100)
	for range 20 {
		c.Write(make([]byte, 5))
	}
	c.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 10 {
		t.Fatalf("got %d lines, want 10:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[9], "100% (100 B of 100 B)") {
		t.Fatalf("last line %q", lines[9])
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 1536: "1.5 KiB", 27 << 20: "27.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
