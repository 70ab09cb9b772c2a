package progress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
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
	var s *Printer
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

// TestTaskOffTerminal runs a three-minute wait that retries every 10 s
// under a fake clock: a "still waiting" line at most every 30 s, none of
// the attempts' transport errors, and the error only in the end line of a
// wait that fails.
func TestTaskOffTerminal(t *testing.T) {
	for _, fail := range []bool{false, true} {
		var buf bytes.Buffer
		s := New(&buf, false)
		clock := time.Unix(0, 0)
		s.now = func() time.Time { return clock }
		task := s.Task("waiting for ssh on %s", "k8smaster0")
		for range 18 {
			clock = clock.Add(10 * time.Second)
			task.Retry(errors.New("dial tcp 192.168.199.200:22: connect: no route to host"))
		}
		var end error
		if fail {
			end = errors.New("timed out after 3m0s: last error: dial tcp 192.168.199.200:22: connect: no route to host (console log: /state/console-k8smaster0.log)")
		}
		task.End(end)
		task.End(nil) // a second End is ignored

		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		want := []string{"• waiting for ssh on k8smaster0 ..."}
		for i := 1; i <= 6; i++ {
			want = append(want, fmt.Sprintf("  still waiting for ssh on k8smaster0 (%s)", time.Duration(i)*30*time.Second))
		}
		if fail {
			want = append(want, "✗ waiting for ssh on k8smaster0 (3m0s): "+end.Error())
		} else {
			want = append(want, "✓ waiting for ssh on k8smaster0 (3m0s)")
		}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Errorf("fail=%v: got\n%s\nwant\n%s", fail, buf.String(), strings.Join(want, "\n"))
		}
		for _, l := range lines[:len(lines)-1] {
			if strings.Contains(l, "no route to host") {
				t.Errorf("a transport error before the wait ended: %q", l)
			}
		}
	}
}

// TestTaskQuietWhenShort: a wait that ends within 30 s prints its start
// and end lines only.
func TestTaskQuietWhenShort(t *testing.T) {
	var buf bytes.Buffer
	s := New(&buf, false)
	clock := time.Unix(0, 0)
	s.now = func() time.Time { return clock }
	task := s.Task("waiting for etcd quorum")
	for range 29 {
		clock = clock.Add(time.Second)
		task.Retry(errors.New("connection refused"))
	}
	task.End(nil)
	if want := "• waiting for etcd quorum ...\n✓ waiting for etcd quorum (29s)\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

// TestColour: colour only on a terminal, and never with NO_COLOR set.
func TestColour(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	if New(io.Discard, false).color {
		t.Error("colour off a terminal")
	}
	if !New(io.Discard, true).color {
		t.Error("no colour on a terminal")
	}
	t.Setenv("NO_COLOR", "1")
	if New(io.Discard, true).color {
		t.Error("colour on a terminal with NO_COLOR=1")
	}
}

// TestTerminalLiveLines drives the live lines (mpb) as create does: steps
// and a download at once, a line printed above them, all ended; the
// finished steps' end lines are in the output and the pool has stopped.
func TestTerminalLiveLines(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	var buf syncBuffer
	s := New(&buf, true)
	end0 := s.Start("waiting for ssh on k8smaster0")
	task := s.Task("waiting for ssh on k8smaster1")
	c := s.Counter("debian-12.qcow2", 1000)
	for range 10 {
		c.Write(make([]byte, 100))
	}
	s.Printf("a note")
	task.Retry(errors.New("no route to host"))
	c.Close()
	task.End(nil)
	end0(errors.New("boom"))
	n := s.Count("check perf", 3, "s")
	n.Set(3)
	n.Close()
	out := buf.String()
	for _, want := range []string{"a note\n", "✓ waiting for ssh on k8smaster1 (", "✗ waiting for ssh on k8smaster0 (", "): boom\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
	if strings.Contains(out, "no route to host") {
		t.Errorf("a retry's error was shown:\n%q", out)
	}
	if s.pool != nil || s.live != 0 {
		t.Errorf("pool still running: %d live lines", s.live)
	}
}

// syncBuffer is a bytes.Buffer safe for mpb's drawing goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
