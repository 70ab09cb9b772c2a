package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// StillWaitingEvery is how often, at most, a task that keeps retrying says
// so off a terminal: often enough to show life in a CI log, rarely enough
// that a VM's minutes of booting are a few lines, not sixty.
const StillWaitingEvery = 30 * time.Second

// Printer writes progress for long steps. On a terminal every running step,
// download and count is a live line (mpb) with its elapsed time, and a bar
// and ETA where the total is known; finished steps stay as one line above
// them. Off a terminal (a pipe, a CI log) it writes one line when a step
// starts and one when it ends, and nothing that redraws. The zero value
// and a nil *Printer discard everything, so library code can call it
// unconditionally.
type Printer struct {
	mu       sync.Mutex
	out      io.Writer
	terminal bool
	color    bool
	now      func() time.Time

	// pool draws the live lines while any is running; nil otherwise.
	pool *mpb.Progress
	live int
}

// New returns a Printer writing to out. terminal selects live lines instead
// of plain ones, and colour unless NO_COLOR is set (https://no-color.org).
func New(out io.Writer, terminal bool) *Printer {
	return &Printer{out: out, terminal: terminal, color: terminal && os.Getenv("NO_COLOR") == "", now: time.Now}
}

// Discard is a Printer that prints nothing.
var Discard = &Printer{}

func (s *Printer) enabled() bool { return s != nil && s.out != nil }

func (s *Printer) clock() time.Time {
	if s == nil || s.now == nil {
		return time.Now()
	}
	return s.now()
}

// Printf writes one line; on a terminal, above the live lines.
func (s *Printer) Printf(format string, args ...any) {
	if !s.enabled() {
		return
	}
	line := fmt.Sprintf(format+"\n", args...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pool != nil {
		_, _ = s.pool.Write([]byte(line))
		return
	}
	_, _ = io.WriteString(s.out, line)
}

// paint wraps text in an ANSI colour when the Printer may use colour.
func (s *Printer) paint(code, text string) string {
	if s == nil || !s.color {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

const (
	green = "32"
	red   = "31"
)

// addBar starts a live line, and the pool that draws it if none runs.
func (s *Printer) addBar(total int64, filler mpb.BarFillerBuilder, opts ...mpb.BarOption) *mpb.Bar {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pool == nil {
		s.pool = mpb.New(mpb.WithOutput(s.out), mpb.WithWidth(40), mpb.WithRefreshRate(150*time.Millisecond),
			// The caller said out is a terminal (a test passes a buffer).
			mpb.WithAutoRefresh())
	}
	s.live++
	return s.pool.New(total, filler, opts...)
}

// doneBar completes a live line; the pool stops with the last one, so
// later plain lines go straight to out.
func (s *Printer) doneBar(b *mpb.Bar) {
	b.SetTotal(-1, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live--
	if s.live == 0 && s.pool != nil {
		s.pool.Wait()
		s.pool = nil
	}
}

// Start begins a step and returns the function that ends it. Off a
// terminal it prints "• step ..." now and "✓ step (1.2s)" or
// "✗ step (1.2s): err" at the end; on a terminal the step is a live line
// with a spinner and its elapsed time until then.
func (s *Printer) Start(format string, args ...any) (end func(err error)) {
	step := fmt.Sprintf(format, args...)
	begin := s.clock()
	var bar *mpb.Bar
	if s.enabled() && s.terminal {
		bar = s.addBar(0, mpb.SpinnerStyle(),
			mpb.PrependDecorators(decor.Name(step, decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO)),
			mpb.BarRemoveOnComplete())
	} else {
		s.Printf("• %s ...", step)
	}
	var once sync.Once
	return func(err error) {
		once.Do(func() {
			elapsed := s.clock().Sub(begin).Round(100 * time.Millisecond)
			if err != nil {
				s.Printf("%s %s (%s): %v", s.paint(red, "✗"), step, elapsed, err)
			} else {
				s.Printf("%s %s (%s)", s.paint(green, "✓"), step, elapsed)
			}
			if bar != nil {
				s.doneBar(bar)
			}
		})
	}
}

// Task is a step that retries until something comes up (a VM's SSH, a
// member's health). Its failed attempts are expected while it waits, so
// they are not shown: off a terminal a "still waiting" line says the task
// is alive at most every StillWaitingEvery, and the last error appears
// only in the end line, when the task fails.
type Task struct {
	s     *Printer
	name  string
	begin time.Time
	shown time.Time
	end   func(error)
	mu    sync.Mutex
}

// Task starts a retrying step: "waiting for ssh on k8smaster0".
func (s *Printer) Task(format string, args ...any) *Task {
	now := s.clock()
	return &Task{s: s, name: fmt.Sprintf(format, args...), begin: now, shown: now, end: s.Start(format, args...)}
}

// Retry records a failed attempt. err is kept from the user until the task
// ends: it is the caller's to put in End's error.
func (t *Task) Retry(error) {
	if t.s == nil || t.s.terminal {
		return // the live line's clock shows the wait
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.s.clock()
	if now.Sub(t.shown) < StillWaitingEvery {
		return
	}
	t.shown = now
	t.s.Printf("  still %s (%s)", t.name, now.Sub(t.begin).Round(time.Second))
}

// End ends the task; a non-nil err (with the last attempt's error and
// where to look, such as the console log) is shown in the end line.
func (t *Task) End(err error) { t.end(err) }

// Counter returns a writer that counts bytes written to it toward total
// (-1 when unknown). On a terminal it is a live bar with size, speed and
// ETA; otherwise it prints a plain line at every 10 % (or every 16 MiB
// when the total is unknown). Close it when the transfer ends.
func (s *Printer) Counter(desc string, total int64) io.WriteCloser {
	if !s.enabled() {
		return nopCounter{}
	}
	if s.terminal {
		t := max(total, 0)
		bar := s.addBar(t, mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name(desc, decor.WCSyncSpaceR), decor.CountersKibiByte("% .1f / % .1f")),
			mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.Name(" "), decor.AverageETA(decor.ET_STYLE_GO)),
			mpb.BarRemoveOnComplete())
		return &barCounter{s: s, bar: bar}
	}
	return &lineCounter{printf: s.Printf, desc: desc, total: total, format: func(done, total int64) string {
		return fmt.Sprintf("%d%% (%s of %s)", done*100/total, Bytes(done), Bytes(total))
	}, unknown: func(done int64) string { return Bytes(done) }, unknownStep: unknownTotalStep}
}

// Count is progress toward a number of units known in advance (check
// perf's seconds): a live bar on a terminal, a line at every 10 % off it.
type Count struct {
	bar   *mpb.Bar
	s     *Printer
	lines *lineCounter
}

// Count starts counting toward total units, named unit in the plain lines.
func (s *Printer) Count(desc string, total int, unit string) *Count {
	if !s.enabled() {
		return &Count{}
	}
	if s.terminal {
		bar := s.addBar(int64(total), mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name(desc, decor.WCSyncSpaceR), decor.CountersNoUnit("%d / %d "+unit)),
			mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.Name(" "), decor.Elapsed(decor.ET_STYLE_GO)),
			mpb.BarRemoveOnComplete())
		return &Count{bar: bar, s: s}
	}
	return &Count{lines: &lineCounter{printf: s.Printf, desc: desc, total: int64(total), format: func(done, total int64) string {
		return fmt.Sprintf("%d%s of %d%s (%d%%)", done, unit, total, unit, done*100/total)
	}}}
}

// Set moves the count to done.
func (c *Count) Set(done int) {
	switch {
	case c.bar != nil:
		c.bar.SetCurrent(int64(done))
	case c.lines != nil:
		c.lines.set(int64(done))
	}
}

// Close ends the count.
func (c *Count) Close() {
	if c.bar != nil {
		c.s.doneBar(c.bar)
		c.bar = nil
	}
}

type nopCounter struct{}

func (nopCounter) Write(p []byte) (int, error) { return len(p), nil }
func (nopCounter) Close() error                { return nil }

type barCounter struct {
	s    *Printer
	bar  *mpb.Bar
	once sync.Once
}

func (b *barCounter) Write(p []byte) (int, error) {
	b.bar.IncrBy(len(p))
	return len(p), nil
}

func (b *barCounter) Close() error {
	b.once.Do(func() { b.s.doneBar(b.bar) })
	return nil
}

const unknownTotalStep = 16 << 20

// lineCounter prints a plain line at every tenth of total, or every
// unknownStep units when the total is unknown.
type lineCounter struct {
	printf      func(format string, args ...any)
	desc        string
	total       int64
	done        int64
	next        int64
	unknownStep int64
	format      func(done, total int64) string
	unknown     func(done int64) string
}

func (c *lineCounter) step() int64 {
	if c.total > 0 {
		return max(c.total/10, 1)
	}
	return max(c.unknownStep, 1)
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.set(c.done + int64(len(p)))
	return len(p), nil
}

func (c *lineCounter) set(done int64) {
	c.done = done
	if c.next == 0 {
		c.next = c.step()
	}
	if c.done < c.next {
		return
	}
	for c.done >= c.next {
		c.next += c.step()
	}
	c.report()
}

func (c *lineCounter) report() {
	if c.total > 0 {
		c.printf("  %s: %s", c.desc, c.format(c.done, c.total))
		return
	}
	if c.unknown != nil {
		c.printf("  %s: %s", c.desc, c.unknown(c.done))
	}
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
