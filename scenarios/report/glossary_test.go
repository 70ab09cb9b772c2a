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
		if rw.label == "profile" || rw.label == "heartbeat / election" || rw.label == "expected" || strings.HasPrefix(rw.label, "check perf ") {
			continue // settings, and check perf's own parts
		}
		if defined[rw.label] != 1 {
			t.Errorf("row %q has %d definitions in the glossary, want 1", rw.label, defined[rw.label])
		}
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "## Glossary") || !strings.Contains(md.String(), "**leader changes after the first** (bootstrap + observation)") {
		t.Errorf("report.md lacks the glossary")
	}
}
