package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// The files Write puts in a report's directory.
const (
	MarkdownFile   = "report.md"
	JSONFile       = "report.json"
	LeaderTermFile = "leader-term.svg"
	LeadershipFile = "leadership.svg"
	FsyncFile      = "fsync.svg"
)

// Charts are the captions and files of the charts Write draws, as
// WriteMarkdown takes them.
func Charts() map[string]string {
	return map[string]string{
		"every arm's leadership on one time axis": LeadershipFile,
		"leader and term over time":               LeaderTermFile,
		"WAL fsync latency per arm":               FsyncFile,
	}
}

// Write writes report.md, report.json and both charts into dir, which must
// exist (the arms' evidence directories are the runner's to write).
func Write(dir string, r Report) error {
	var md, js bytes.Buffer
	if err := WriteMarkdown(&md, r, Charts()); err != nil {
		return err
	}
	if err := WriteJSON(&js, r); err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{MarkdownFile, md.Bytes()},
		{JSONFile, js.Bytes()},
		{LeadershipFile, LeadershipSVG(r)},
		{LeaderTermFile, LeaderTermSVG(r)},
		{FsyncFile, FsyncSVG(r)},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("writing report file %s: %w", f.name, err)
		}
	}
	return nil
}
