package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Status writes progress lines for long steps. The zero value and a nil
// *Status discard everything, so library code can call it unconditionally.
type Status struct {
	mu       sync.Mutex
	out      io.Writer
	terminal bool
	now      func() time.Time
}

// New returns a Status writing to out. terminal selects drawn progress bars
// instead of plain lines.
func New(out io.Writer, terminal bool) *Status {
	return &Status{out: out, terminal: terminal, now: time.Now}
}

// Discard is a Status that prints nothing.
var Discard = &Status{}

func (s *Status) enabled() bool { return s != nil && s.out != nil }

func (s *Status) clock() time.Time {
	if s == nil || s.now == nil {
		return time.Now()
	}
	return s.now()
}

// Printf writes one line.
func (s *Status) Printf(format string, args ...any) {
	if !s.enabled() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, format+"\n", args...)
}

// Start prints "• step ..." and returns the function that ends the step,
// printing "✓ step (1.2s)" or "✗ step (1.2s): err".
func (s *Status) Start(format string, args ...any) (end func(err error)) {
	step := fmt.Sprintf(format, args...)
	begin := s.clock()
	s.Printf("• %s ...", step)
	return func(err error) {
		elapsed := s.clock().Sub(begin).Round(100 * time.Millisecond)
		if err != nil {
			s.Printf("✗ %s (%s): %v", step, elapsed, err)
			return
		}
		s.Printf("✓ %s (%s)", step, elapsed)
	}
}

// Counter returns a writer that counts bytes written to it toward total
// (-1 when unknown). On a terminal it draws a bar; otherwise it prints a
// plain line at every 10 % (or every 16 MiB when the total is unknown).
// Close it when the transfer ends.
func (s *Status) Counter(desc string, total int64) io.WriteCloser {
	if !s.enabled() {
		return nopCounter{}
	}
	if s.terminal {
		bar := progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(s.out),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		return barCounter{bar}
	}
	return &lineCounter{status: s, desc: desc, total: total}
}

type nopCounter struct{}

func (nopCounter) Write(p []byte) (int, error) { return len(p), nil }
func (nopCounter) Close() error                { return nil }

type barCounter struct{ bar *progressbar.ProgressBar }

func (b barCounter) Write(p []byte) (int, error) { return b.bar.Write(p) }
func (b barCounter) Close() error                { return b.bar.Finish() }

const unknownTotalStep = 16 << 20

type lineCounter struct {
	status *Status
	desc   string
	total  int64
	done   int64
	next   int64
}

func (c *lineCounter) step() int64 {
	if c.total > 0 {
		return max(c.total/10, 1)
	}
	return unknownTotalStep
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.done += int64(len(p))
	if c.next == 0 {
		c.next = c.step()
	}
	for c.done >= c.next {
		c.report()
		c.next += c.step()
	}
	return len(p), nil
}

func (c *lineCounter) report() {
	if c.total > 0 {
		c.status.Printf("  %s: %d%% (%s of %s)", c.desc, c.done*100/c.total, Bytes(c.done), Bytes(c.total))
		return
	}
	c.status.Printf("  %s: %s", c.desc, Bytes(c.done))
}

func (c *lineCounter) Close() error {
	if c.total <= 0 || c.done < c.total {
		c.report()
	}
	return nil
}

// Bytes formats a byte count for people: 1.5 GiB, 27.0 MiB, 512 B.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
