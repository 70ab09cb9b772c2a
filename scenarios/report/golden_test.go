package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"testing"

	"github.com/kthw-lab/lab/internal/golden"
)

func render(t *testing.T, write func(io.Writer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGoldenTable(t *testing.T) {
	golden.Check(t, "testdata/story.golden.txt", render(t, func(w io.Writer) error { return Table(w, story()) }))
}

func TestGoldenMarkdown(t *testing.T) {
	golden.Check(t, "testdata/story.golden.md", render(t, func(w io.Writer) error { return WriteMarkdown(w, story(), Charts()) }))
}

func TestGoldenJSON(t *testing.T) {
	golden.Check(t, "testdata/story.golden.json", render(t, func(w io.Writer) error { return WriteJSON(w, story()) }))
}

func TestGoldenJUnit(t *testing.T) {
	golden.Check(t, "testdata/story.golden.junit.xml", render(t, func(w io.Writer) error { return WriteJUnit(w, story()) }))
}

func TestGoldenLeaderTermSVG(t *testing.T) {
	got := LeaderTermSVG(story())
	wellFormed(t, got)
	golden.Check(t, "testdata/story.golden.leader-term.svg", got)
}

func TestGoldenFsyncSVG(t *testing.T) {
	got := FsyncSVG(story())
	wellFormed(t, got)
	golden.Check(t, "testdata/story.golden.fsync.svg", got)
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
	golden.Check(t, "testdata/story.golden.leadership.svg", got)
}
