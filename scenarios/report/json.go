package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes the report as report.json, indented: the judged Report
// (Judge) marshalled as it is, so its keys are the result model's (snake
// case, durations in seconds under keys ending in _s, a figure that does
// not exist as null).
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Judge(r)); err != nil {
		return fmt.Errorf("writing report json: %w", err)
	}
	return nil
}

// ReadJSON reads a report that WriteJSON wrote. The derived parts (the
// headline, the control's check, each arm's verdicts) are read as written;
// Judge recomputes them from the figures.
func ReadJSON(rd io.Reader) (Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return Report{}, fmt.Errorf("reading report json: %w", err)
	}
	return r, nil
}
