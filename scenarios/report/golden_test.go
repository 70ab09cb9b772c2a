package report

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it); got:\n%s", name, got)
	}
}

func render(t *testing.T, write func(io.Writer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGoldenTable(t *testing.T) {
	golden(t, "story.golden.txt", render(t, func(w io.Writer) error { return Table(w, story()) }))
}

func TestGoldenMarkdown(t *testing.T) {
	golden(t, "story.golden.md", render(t, func(w io.Writer) error { return WriteMarkdown(w, story(), Charts()) }))
}

func TestGoldenJSON(t *testing.T) {
	golden(t, "story.golden.json", render(t, func(w io.Writer) error { return WriteJSON(w, story()) }))
}

func TestGoldenJUnit(t *testing.T) {
	golden(t, "story.golden.junit.xml", render(t, func(w io.Writer) error { return WriteJUnit(w, story()) }))
}

func TestGoldenLeaderTermSVG(t *testing.T) {
	got := LeaderTermSVG(story())
	wellFormed(t, got)
	golden(t, "story.golden.leader-term.svg", got)
}

func TestGoldenFsyncSVG(t *testing.T) {
	got := FsyncSVG(story())
	wellFormed(t, got)
	golden(t, "story.golden.fsync.svg", got)
}

// wellFormed parses doc as XML to the end and checks that its root is an
// SVG element.
func wellFormed(t *testing.T, doc []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("svg is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Space + " " + se.Name.Local
		}
	}
	if root != "http://www.w3.org/2000/svg svg" {
		t.Fatalf("root element = %q, want an svg element in the SVG namespace", root)
	}
}

func TestGoldenLeadershipSVG(t *testing.T) {
	got := LeadershipSVG(story())
	wellFormed(t, got)
	golden(t, "story.golden.leadership.svg", got)
}
