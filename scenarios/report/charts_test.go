package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
	"github.com/kthw-lab/lab/scenarios/svg"
)

// odd reports are the shapes a runner can produce besides the story: no
// arms, an arm that measured nothing, many arms, names that are markup.
func oddReports() map[string]Report {
	many := story()
	for i := range 3 {
		a := story().Arms[i]
		a.Name = fmt.Sprintf("%s-repeat-%d", a.Name, i)
		many.Arms = append(many.Arms, a)
	}
	markup := story()
	markup.Scenario = `slow<disk> & "friends"`
	markup.Arms[0].Name = "<ssd & co>"
	markup.Arms[0].EtcdVersion = "v<3.4> & 'quotes'"
	for i := range markup.Arms[1].Samples {
		markup.Arms[1].Samples[i].Member += "<&>"
		if markup.Arms[1].Samples[i].Leader != "" {
			markup.Arms[1].Samples[i].Leader += "<&>"
		}
	}
	return map[string]Report{
		"empty":    {},
		"nothing":  {Scenario: "slow-disk", Arms: []Arm{{Name: "bare", TimeToFirstLeader: Never}}},
		"one arm":  {Scenario: "slow-disk", Duration: measure.Seconds(time.Minute), Arms: story().Arms[:1]},
		"six arms": many,
		"markup":   markup,
	}
}

func TestChartsWellFormedForAnyReport(t *testing.T) {
	for name, r := range oddReports() {
		t.Run(name, func(t *testing.T) {
			for chart, doc := range map[string][]byte{"leader-term": LeaderTermSVG(r), "fsync": FsyncSVG(r)} {
				wellFormed(t, doc)
				if bytes.Contains(doc, []byte("NaN")) || bytes.Contains(doc, []byte("Inf")) {
					t.Errorf("%s chart has a non-finite coordinate", chart)
				}
				for _, a := range r.Arms {
					if !bytes.Contains(doc, []byte(svg.Esc(a.Name))) {
						t.Errorf("%s chart does not name arm %q", chart, a.Name)
					}
				}
			}
		})
	}
}

func TestLeaderTermShowsTheStory(t *testing.T) {
	doc := string(LeaderTermSVG(story()))
	// hdd: the bootstrap until 14.4 s, shaded as its own phase, then four
	// losses, each from the moment the last member stops naming the old
	// leader.
	for _, want := range []string{
		"bootstrap: no leader yet from 0 s to 14.4 s", "no leader from 26.5 s to 35.4 s", "no leader from 75.5 s to 81.4 s",
		"k8smaster2 leader at 14.4 s, term 14", "k8smaster0 leader at 81.4 s, term 40",
		"k8smaster1 leader at 3.4 s, term 2", "k8smaster0 leader at 12.4 s, term 2",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("leader/term chart lacks %q", want)
		}
	}
	if n := strings.Count(doc, "no leader yet from"); n != 3 {
		t.Errorf("%d bootstrap spans, want 3 (one per arm)", n)
	}
	if n := strings.Count(doc, "<title>no leader from"); n != 4 {
		t.Errorf("%d spans without a leader after the first, want 4 (hdd's)", n)
	}
	if n := strings.Count(doc, " leader at "); n != 1+5+1 {
		t.Errorf("%d leader marks, want 7", n)
	}
}

func TestFsyncShowsTheStory(t *testing.T) {
	doc := string(FsyncSVG(story()))
	for _, want := range []string{
		"ssd: 4100 fsyncs in (2 ms, 4 ms] (45.5 %)",
		"hdd: 168 fsyncs in (1.02 s, 2.05 s] (57.5 %)",
		"hdd-tuned: 140 fsyncs in (512 ms, 1.02 s] (51.3 %)",
		"election timeout 6000 ms",
		"expected less than 1s",
		">1 ms<", ">8 s<", ">&gt; 8 s<",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("fsync chart lacks %q", want)
		}
	}
	// Empty buckets draw no bar: 8 + 5 + 4 non-empty buckets.
	if n := strings.Count(doc, " fsyncs in "); n != 8+5+4 {
		t.Errorf("%d bars, want 17", n)
	}
}

func TestShares(t *testing.T) {
	got := shares(cumulative(1, 3, 0, 4))
	want := []float64{0.125, 0.375, 0, 0.5}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("share[%d] = %v, want %v", i, got[i], w)
		}
	}
	for i := len(want); i < len(got); i++ {
		if got[i] != 0 {
			t.Errorf("share[%d] = %v, want 0", i, got[i])
		}
	}
	if s := shares(nil); len(s) != 0 {
		t.Errorf("shares(nil) = %v", s)
	}
}

func TestTableAnyArms(t *testing.T) {
	for name, r := range oddReports() {
		var b bytes.Buffer
		if err := Table(&b, r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(r.Arms) == 0 {
			if b.String() != "no arms ran\n" {
				t.Errorf("%s: table = %q, want a line saying no arms ran", name, b.String())
			}
			continue
		}
		lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
		// Header, rule, rows, a blank line, the verdicts, a blank line and
		// the control's line; then, for a timed run, a blank line, "wall
		// time:" and one line per arm.
		want := 2 + len(rows(r)) + 1 + len(r.Arms) + 2
		if r.Arms[0].WallTimes.Recorded() {
			want += 2 + len(r.Arms)
		}
		if len(lines) != want {
			t.Errorf("%s: %d lines, want %d:\n%s", name, len(lines), want, b.String())
		}
		for _, a := range r.Arms {
			if !strings.Contains(lines[0], a.Name) {
				t.Errorf("%s: header %q lacks arm %q", name, lines[0], a.Name)
			}
		}
		for _, l := range lines {
			if strings.HasSuffix(l, " ") {
				t.Errorf("%s: trailing space in %q", name, l)
			}
		}
	}
}

func TestTableColumnsAlign(t *testing.T) {
	var b bytes.Buffer
	if err := Table(&b, story()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	col := strings.Index(lines[0], "hdd-tuned")
	for _, l := range lines[2:16] {
		r := []rune(l)
		if len(r) <= col || r[col-1] != ' ' || r[col] == ' ' {
			t.Errorf("row %q does not start a cell at column %d", l, col)
		}
	}
}

func TestMarkdownWithoutChartsOrEvidence(t *testing.T) {
	r := story()
	for i := range r.Arms {
		r.Arms[i].Evidence = ""
	}
	r.Arms[1].Name = "a|b"
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r, nil); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, absent := range []string{"## Charts", "## Evidence", "![", "| a|b |"} {
		if strings.Contains(md, absent) {
			t.Errorf("markdown contains %q", absent)
		}
	}
	if !strings.Contains(md, `| a\|b |`) {
		t.Errorf("a pipe in an arm's name is not escaped in the table")
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, story()); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{LeaderTermFile, FsyncFile} {
		if !bytes.Contains(md, []byte("]("+f+")")) {
			t.Errorf("report.md does not show %s", f)
		}
		doc, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		wellFormed(t, doc)
	}
	js, err := os.Open(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	defer js.Close()
	r, err := ReadJSON(js)
	if err != nil || len(r.Arms) != 3 {
		t.Fatalf("report.json read back: %d arms, %v", len(r.Arms), err)
	}

	if err := Write(filepath.Join(dir, "missing"), story()); err == nil || !strings.Contains(err.Error(), "report.md") {
		t.Errorf("Write into a missing directory = %v, want an error naming the file", err)
	}
}

// TestLeadershipShowsEveryArm: one row per arm on one axis; the bootstrap,
// the leaders, the spans without one and check perf each drawn as such.
func TestLeadershipShowsEveryArm(t *testing.T) {
	doc := string(LeadershipSVG(story()))
	for _, want := range []string{
		"bootstrap: no leader yet until 3.4 s", "bootstrap: no leader yet until 14.4 s", "bootstrap: no leader yet until 12.4 s",
		"no leader from 26.5 s to 35.4 s", "k8smaster0 leader at 81.4 s, term 40", "check perf from 104 s to 124 s",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("leadership chart lacks %q", want)
		}
	}
	if n := strings.Count(doc, "<title>no leader from"); n != 4 {
		t.Errorf("%d spans without a leader, want hdd's 4", n)
	}
}
