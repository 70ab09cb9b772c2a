package svg

import (
	"strings"
	"testing"
)

func TestNumRoundsToATenth(t *testing.T) {
	for v, want := range map[float64]string{0: "0", -0.04: "0", 1.25: "1.3", 12.0: "12", 3.14159: "3.1", -2.06: "-2.1"} {
		if got := Num(v); got != want {
			t.Errorf("Num(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestDocEscapesText(t *testing.T) {
	d := New(100, 50, `p99 < 10 ms & "fine"`)
	d.Text(10, 20, "start", `fill="#000"`, "a<b")
	d.RectTitled(0, 0, 1, 1, `fill="#fff"`, "x>y")
	got := string(d.Bytes())
	for _, want := range []string{
		`<title>p99 &lt; 10 ms &amp; &#34;fine&#34;</title>`,
		`<text x="10" y="20" text-anchor="start" fill="#000">a&lt;b</text>`,
		`<title>x&gt;y</title></rect>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("document lacks %s:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(got, "</svg>\n") || strings.Count(got, "<svg ") != 1 {
		t.Errorf("not one closed document:\n%s", got)
	}
}
