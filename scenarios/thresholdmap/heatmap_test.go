package thresholdmap

import (
	"bytes"
	"encoding/xml"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/internal/golden"
)

// goldenMap is a 4 × 3 grid with every outcome and one cell not measured:
// the fake lab's rule (stable from election = 10 × fsync), but the cell at
// election 10 s, fsync 1 s on its edge elects late (a slow start).
func goldenMap() Map {
	g := Grid{Fsync: []time.Duration{10 * time.Millisecond, 250 * time.Millisecond, time.Second, 2 * time.Second},
		Election: []time.Duration{time.Second, 2500 * time.Millisecond, 10 * time.Second}, HeartbeatRatio: 10,
		Versions: []string{"v3.6.16"}, CellDuration: 30 * time.Second, Repeats: 1}
	done := resultsFor(g, func(c Cell) string {
		if c.Election == 10*time.Second && c.Fsync == time.Second {
			return SlowStart
		}
		return physics(10)(c)
	})
	delete(done, "v3.6.16-e2.5s-f2s-r1")
	return Build(g, done)
}

func TestHeatmapGolden(t *testing.T) {
	got := goldenMap().Heatmap("v3.6.16")
	golden.Check(t, filepath.Join("testdata", "heatmap.golden.svg"), got)
}

// TestHeatmapCellColours reads the SVG as XML and checks each cell's fill
// against its outcome worked out here from the fake lab's rule, with the
// colours written out, not taken from the package.
func TestHeatmapCellColours(t *testing.T) {
	colours := map[string]string{"stable": "#1E8449", "slow start": "#F0E442", "unstable": "#E69F00", "never elected": "#C0392B", "": "#e4e4e4"}
	svg := goldenMap().Heatmap("v3.6.16")
	dec := xml.NewDecoder(bytes.NewReader(svg))
	cells, lines := 0, map[string]bool{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the heatmap is not XML: %v", err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := map[string]string{}
		for _, a := range el.Attr {
			attr[a.Name.Local] = a.Value
		}
		if l := attr["data-line"]; l != "" {
			lines[l] = strings.Contains(attr["d"], " L")
		}
		if el.Name.Local != "rect" || attr["data-fsync"] == "" {
			continue
		}
		cells++
		e, err1 := time.ParseDuration(attr["data-election"])
		f, err2 := time.ParseDuration(attr["data-fsync"])
		if err1 != nil || err2 != nil {
			t.Fatalf("cell attributes %v", attr)
		}
		want := "stable"
		switch r := e.Seconds() / f.Seconds(); {
		case e == 2500*time.Millisecond && f == 2*time.Second:
			want = "" // not measured
		case e == 10*time.Second && f == time.Second:
			want = "slow start"
		case r < 1:
			want = "never elected"
		case r < 10:
			want = "unstable"
		}
		if attr["data-outcome"] != want || attr["fill"] != colours[want] {
			t.Errorf("cell election %s fsync %s: outcome %q fill %s, want %q %s", e, f, attr["data-outcome"], attr["fill"], want, colours[want])
		}
	}
	if cells != 12 {
		t.Errorf("%d cells, want 12", cells)
	}
	if !lines["guidance"] || !lines["edge"] {
		t.Errorf("lines drawn: %v, want the guidance and the measured edge", lines)
	}
}

func TestScaleInterpolatesAndInverts(t *testing.T) {
	s := logScale([]time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second}, 100, 50)
	for _, tc := range []struct{ log, pos float64 }{{-2, 125}, {-1, 175}, {0, 225}, {-1.5, 150}, {1, 275}, {-3, 75}} {
		if p := s.at(tc.log); p < tc.pos-1e-9 || p > tc.pos+1e-9 {
			t.Errorf("at(%v) = %v, want %v", tc.log, p, tc.pos)
		}
		if l := s.inverse(tc.pos); l < tc.log-1e-9 || l > tc.log+1e-9 {
			t.Errorf("inverse(%v) = %v, want %v", tc.pos, l, tc.log)
		}
	}
	one := logScale([]time.Duration{time.Second}, 0, -60)
	if p := one.at(1); p != -90 {
		t.Errorf("one category: at(1) = %v, want a decade per cell (-90)", p)
	}
}
