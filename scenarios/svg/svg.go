// Package svg writes the scenarios' charts: SVG by hand, a few shapes and
// text, numbers rounded to a tenth of a pixel so that the documents are
// stable for golden files and small enough to commit as evidence. The
// slow-disk report's charts and the threshold map's heatmaps share it.
package svg

import (
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The charts' common look.
const (
	FontFamily = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"
	TextColour = "#222222"
)

// Doc accumulates the elements of one SVG document.
type Doc struct {
	b strings.Builder
}

// New starts a document of that size with a title and a white background.
func New(width, height float64, title string) *Doc {
	d := &Doc{}
	fmt.Fprintf(&d.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="%s" font-size="12" fill="%s">`+"\n",
		Num(width), Num(height), Num(width), Num(height), FontFamily, TextColour)
	fmt.Fprintf(&d.b, "<title>%s</title>\n", Esc(title))
	d.Rect(0, 0, width, height, `fill="#ffffff"`)
	return d
}

// Bytes ends the document and returns it.
func (d *Doc) Bytes() []byte {
	d.b.WriteString("</svg>\n")
	return []byte(d.b.String())
}

// Raw writes an element as given; attrs are already escaped.
func (d *Doc) Raw(format string, args ...any) {
	fmt.Fprintf(&d.b, format, args...)
	d.b.WriteString("\n")
}

// Rect writes a rectangle.
func (d *Doc) Rect(x, y, w, h float64, attrs string) {
	d.Raw(`<rect x="%s" y="%s" width="%s" height="%s" %s/>`, Num(x), Num(y), Num(w), Num(h), attrs)
}

// RectTitled is a rectangle with a tooltip.
func (d *Doc) RectTitled(x, y, w, h float64, attrs, title string) {
	d.Raw(`<rect x="%s" y="%s" width="%s" height="%s" %s><title>%s</title></rect>`,
		Num(x), Num(y), Num(w), Num(h), attrs, Esc(title))
}

// Line writes a line.
func (d *Doc) Line(x1, y1, x2, y2 float64, attrs string) {
	d.Raw(`<line x1="%s" y1="%s" x2="%s" y2="%s" %s/>`, Num(x1), Num(y1), Num(x2), Num(y2), attrs)
}

// Path writes a path of the SVG path data p.
func (d *Doc) Path(p string, attrs string) {
	d.Raw(`<path d="%s" %s/>`, p, attrs)
}

// Text writes s at (x, y); anchor is start, middle or end.
func (d *Doc) Text(x, y float64, anchor, attrs, s string) {
	if attrs != "" {
		attrs = " " + attrs
	}
	d.Raw(`<text x="%s" y="%s" text-anchor="%s"%s>%s</text>`, Num(x), Num(y), anchor, attrs, Esc(s))
}

// Num writes a coordinate with at most one decimal.
func Num(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Esc escapes s for text and double-quoted attributes.
func Esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
