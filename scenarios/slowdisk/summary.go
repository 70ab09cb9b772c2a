package slowdisk

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kthw-lab/lab/scenarios/report"
)

// Print writes the terminal's account of a run whose report is in dir:
// the comparison, whether the story's contrast showed, where report.md
// is, and the three headline lines report.md opens with.
func Print(w io.Writer, rep report.Report, dir string) error {
	if err := report.Table(w, rep); err != nil {
		return err
	}
	if err := Contrast(rep); err != nil {
		fmt.Fprintf(w, "\nThe story's contrast did not show: %v\n", err)
	} else {
		fmt.Fprintf(w, "\nThe contrast shows: %s.\n", ContrastShown(rep))
	}
	fmt.Fprintf(w, "Report: %s\n\n", filepath.Join(dir, report.MarkdownFile))
	for _, line := range report.Headline(rep) {
		fmt.Fprintln(w, line)
	}
	return nil
}

// WriteJSON writes the report as report.json holds it.
func WriteJSON(w io.Writer, rep report.Report) error { return report.WriteJSON(w, rep) }

// WriteJUnit writes the report to path as JUnit XML, one test case per
// arm, for CI.
func WriteJUnit(path string, rep report.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	if err := report.WriteJUnit(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
