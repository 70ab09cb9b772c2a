package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestGlossaryDefinesEveryRow: every row of the comparison has exactly one
// definition, and report.md includes them.
func TestGlossaryDefinesEveryRow(t *testing.T) {
	defined := map[string]int{}
	for _, g := range Glossary {
		defined[g.Name]++
	}
	r := story()
	for _, rw := range rows(r) {
		if rw.name == "profile" || rw.name == "heartbeat / election" || rw.name == "expected" || strings.HasPrefix(rw.name, "check perf ") {
			continue // settings, and check perf's own parts
		}
		if defined[rw.name] != 1 {
			t.Errorf("row %q has %d definitions in the glossary, want 1", rw.name, defined[rw.name])
		}
		// Every figure says its window beside it.
		if w := windowOf(rw.name); rw.name != "check perf" && !strings.HasSuffix(rw.label(), " ("+w+")") {
			t.Errorf("row %q does not say its window %q", rw.label(), w)
		}
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "## Glossary") || !strings.Contains(md.String(), "**leader changes after the first** (bootstrap / observation / check perf)") {
		t.Errorf("report.md lacks the glossary")
	}
}
