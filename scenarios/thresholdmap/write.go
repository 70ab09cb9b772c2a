package thresholdmap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kthw-lab/lab/lab/atomicfile"
	"github.com/kthw-lab/lab/scenarios/report"
)

// Write writes map.md, map.json and one heatmap per series into dir.
func Write(dir string, m Map) error {
	var md, js bytes.Buffer
	if err := m.WriteMarkdown(&md); err != nil {
		return err
	}
	if err := m.WriteJSON(&js); err != nil {
		return err
	}
	files := map[string][]byte{MapMarkdown: md.Bytes(), MapJSON: js.Bytes()}
	for _, s := range m.Series() {
		files[HeatmapFile(s)] = m.Heatmap(s)
	}
	for name, data := range files {
		if err := atomicfile.Write(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("writing map file %s: %w", name, err)
		}
	}
	return nil
}

type mapJSON struct {
	Grid    Grid         `json:"grid"`
	Series  []seriesJSON `json:"series"`
	Cells   []Result     `json:"cells"`
	Missing []string     `json:"missing"`
}

type seriesJSON struct {
	Name       string `json:"name"`
	Conclusion string `json:"conclusion"`
	// Ratio is the measured election / fsync p99 from which every cell
	// was stable; 0 when the grid did not find it.
	Ratio    float64    `json:"ratio"`
	Boundary []edgeJSON `json:"boundary"`
	Heatmap  string     `json:"heatmap"`
}

type edgeJSON struct {
	Election      float64 `json:"election_s"`
	LastStable    float64 `json:"last_stable_fsync_s"`
	FirstUnstable float64 `json:"first_unstable_fsync_s"`
}

// WriteJSON writes map.json: the grid, each series' conclusion and
// boundary, and every cell's result model.
func (m Map) WriteJSON(w io.Writer) error {
	out := mapJSON{Grid: m.Grid, Cells: m.Results, Missing: []string{}}
	if out.Cells == nil {
		out.Cells = []Result{}
	}
	for _, s := range m.Series() {
		x, ok, unstable := m.Ratio(s)
		sj := seriesJSON{Name: s, Conclusion: m.Conclusion(s), Heatmap: HeatmapFile(s), Boundary: []edgeJSON{}}
		if ok && unstable {
			sj.Ratio = x
		}
		for _, e := range m.Boundary(s) {
			sj.Boundary = append(sj.Boundary, edgeJSON{e.Election.Seconds(), e.LastStable.Seconds(), e.FirstUnstable.Seconds()})
		}
		out.Series = append(out.Series, sj)
	}
	for _, c := range m.Missing {
		out.Missing = append(out.Missing, c.ID())
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding map json: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteMarkdown writes map.md: the conclusions first, then per series the
// grid as a table and its heatmap, then every cell's figures.
func (m Map) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Threshold map: how slow a disk etcd survives\n\n")
	for _, s := range m.Series() {
		fmt.Fprintf(&b, "- %s\n", m.Conclusion(s))
	}
	total := len(m.Results) + len(m.Missing)
	fmt.Fprintf(&b, "\nGrid: %s. %d of %d cells measured", describe(m.Grid), len(m.Results), total)
	if len(m.Missing) > 0 {
		b.WriteString(" (a partial map: the others are listed at the end)")
	}
	b.WriteString(".\n\n")
	b.WriteString("Each cell wipes etcd on every member, puts the data disks on the hdd profile with the cell's fsync latency, " +
		"starts a fresh three-member cluster with the cell's timeouts and observes it under 5 puts/s. " +
		"Outcome: *stable* (one leader after the first election), *slow start* (stable, but the first leader came after more than " +
		fmt.Sprint(report.ControlFirstLeaderTimeouts) + " election timeouts, as the slow-disk headline's \"struggled\"), " +
		"*unstable* (leader changes or elections after the first leader), *never elected*. " +
		"The measured edge counts only *stable* cells. etcd's tuning guide asks for an election timeout of at least 10 × the round trip including fsync.\n")
	for _, s := range m.Series() {
		fmt.Fprintf(&b, "\n## etcd %s\n\n![threshold map of etcd %s](%s)\n\n", s, s, HeatmapFile(s))
		rows := m.Points(s)
		b.WriteString("| election \\ fsync |")
		for _, p := range rows[0] {
			fmt.Fprintf(&b, " %s |", p.Fsync)
		}
		b.WriteString("\n|---|")
		b.WriteString(strings.Repeat("---|", len(rows[0])))
		b.WriteString("\n")
		for i := len(rows) - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "| %s |", rows[i][0].Election)
			for _, p := range rows[i] {
				if p.Outcome() == "" {
					b.WriteString(" – |")
					continue
				}
				fmt.Fprintf(&b, " %s: %s |", p.Outcome(), strings.Join(cellLabel(p), ", "))
			}
			b.WriteString("\n")
		}
		var edges []string
		for _, e := range m.Boundary(s) {
			switch {
			case e.FirstUnstable == 0 && e.LastStable == 0:
				edges = append(edges, fmt.Sprintf("election %s: not measured", e.Election))
			case e.FirstUnstable == 0:
				edges = append(edges, fmt.Sprintf("election %s: stable up to %s", e.Election, e.LastStable))
			case e.LastStable == 0:
				edges = append(edges, fmt.Sprintf("election %s: not stable even at %s", e.Election, e.FirstUnstable))
			default:
				edges = append(edges, fmt.Sprintf("election %s: stable up to %s, not at %s", e.Election, e.LastStable, e.FirstUnstable))
			}
		}
		fmt.Fprintf(&b, "\nMeasured edge: %s.\n", strings.Join(edges, "; "))
	}
	b.WriteString("\n## Every cell\n\n")
	b.WriteString("| cell | outcome | probe fsync p99 | first leader | elections | leader changes | without leader | put p99 | put errors | observed | wall |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range m.Results {
		first := "never"
		if r.Arm.Elected() {
			first = figure(r.Arm.TimeToFirstLeader)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %s | %s | %d | %s | %s |\n", r.Cell, r.Outcome(), figure(r.Arm.FsyncP99),
			first, r.Arm.Elections, r.Arm.LeaderChanges, figure(r.Arm.TimeWithoutLeader), figure(r.Arm.PutP99), r.Arm.PutErrors,
			short(r.Observed()), short(r.Wall))
	}
	if len(m.Results) > 0 {
		over, share := Overhead(m.Results, m.Grid.CellDuration)
		fmt.Fprintf(&b, "\nHarness overhead per cell (wall time beyond bootstrap and observation: reset, etcd install, profile, probe, collection): "+
			"mean %s, %.0f %% of the %s observation window.\n", short(over), 100*share, m.Grid.CellDuration)
	}
	if len(m.Missing) > 0 {
		b.WriteString("\n## Not measured\n\n")
		for _, c := range m.Missing {
			fmt.Fprintf(&b, "- %s\n", c)
		}
	}
	if hosts := m.hosts(); len(hosts) > 0 {
		fmt.Fprintf(&b, "\nMeasured on: %s.\n", strings.Join(hosts, "; "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (m Map) hosts() []string {
	var out []string
	for _, r := range m.Results {
		if r.Host != "" && !slices.Contains(out, r.Host) {
			out = append(out, r.Host)
		}
	}
	return out
}

// Overhead is the mean time a cell spent outside its bootstrap and
// observation (Wall - Observed), and that as a share of window, the
// cell's observation window.
func Overhead(results []Result, window time.Duration) (time.Duration, float64) {
	if len(results) == 0 || window <= 0 {
		return 0, 0
	}
	var sum time.Duration
	for _, r := range results {
		sum += max(0, r.Wall-r.Observed())
	}
	mean := sum / time.Duration(len(results))
	return mean, float64(mean) / float64(window)
}

// ETA estimates the time the remaining cells take from the wall times of
// the cells measured so far in this run, per fsync latency when it has
// one of the same (a slow disk's cell takes longer), else their mean.
// ok is false before any cell was measured.
func ETA(measured []Result, remaining []Cell) (time.Duration, bool) {
	if len(measured) == 0 {
		return 0, false
	}
	var all time.Duration
	by := map[time.Duration][]time.Duration{}
	for _, r := range measured {
		all += r.Wall
		by[r.Cell.Fsync] = append(by[r.Cell.Fsync], r.Wall)
	}
	mean := all / time.Duration(len(measured))
	var eta time.Duration
	for _, c := range remaining {
		if ws := by[c.Fsync]; len(ws) > 0 {
			var sum time.Duration
			for _, w := range ws {
				sum += w
			}
			eta += sum / time.Duration(len(ws))
		} else {
			eta += mean
		}
	}
	return eta, true
}
