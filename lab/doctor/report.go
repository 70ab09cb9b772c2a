package doctor

import (
	"fmt"
	"io"
	"strings"
)

// Verdict is the outcome of one check.
type Verdict string

// The outcomes: ok needs nothing; warn works but slower or with a feature
// missing; fail does not work.
const (
	OK   Verdict = "ok"
	Warn Verdict = "warn"
	Fail Verdict = "fail"
)

// Check is the outcome of one check of the host.
type Check struct {
	// Name says what was checked ("libvirt socket", "qemu", "memory").
	Name string `json:"name"`
	// Verdict is ok, warn or fail.
	Verdict Verdict `json:"status"`
	// Detail is what was found (a path, a version, an amount, an error).
	Detail string `json:"detail"`
	// Fix is the command that makes the check pass; empty when ok.
	Fix string `json:"fix,omitempty"`
	// Required is true when a failure means a lab cannot be created.
	Required bool `json:"required"`
}

// Checkup is the list of checks in the order they ran.
type Checkup struct {
	Checks []Check `json:"checks"`
}

// Failed reports whether any required check failed: the host cannot run a
// lab until it is fixed.
func (r Checkup) Failed() bool {
	for _, c := range r.Checks {
		if c.Required && c.Verdict == Fail {
			return true
		}
	}
	return false
}

// Render writes the checkup as text, one line per check with its fix, then
// a summary line.
func (r Checkup) Render(w io.Writer) error {
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	var b strings.Builder
	var counts [3]int
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-4s %-*s  %s", c.Verdict, width, c.Name, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(&b, " — fix: %s", c.Fix)
		}
		b.WriteByte('\n')
		switch c.Verdict {
		case OK:
			counts[0]++
		case Warn:
			counts[1]++
		default:
			counts[2]++
		}
	}
	verdict := "ready"
	if r.Failed() {
		verdict = "not ready: fix the failed required checks above"
	}
	fmt.Fprintf(&b, "%d ok, %d warn, %d fail: %s\n", counts[0], counts[1], counts[2], verdict)
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("writing the doctor report: %w", err)
	}
	return nil
}
