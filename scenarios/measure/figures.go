package measure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Seconds is a duration that report.json writes as a number of seconds
// (rounded to the microsecond), under a key ending in _s: the project's
// JSON convention. None is a figure that does not exist, written null.
type Seconds time.Duration

// None is a Seconds figure that does not exist: no first leader, no put
// that succeeded, no WAL fsync. Every duration measured here is ≥ 0, so a
// negative one cannot be confused with a measurement.
const None Seconds = -1

// Valid reports whether the figure exists (is not None).
func (s Seconds) Valid() bool { return s >= 0 }

// D is the figure as a time.Duration; 0 for None.
func (s Seconds) D() time.Duration {
	if !s.Valid() {
		return 0
	}
	return time.Duration(s)
}

// Float is the figure in seconds, rounded to the microsecond so that the
// numbers stay short and round-trip.
func (s Seconds) Float() float64 {
	return math.Round(time.Duration(s).Seconds()*1e6) / 1e6
}

// MarshalJSON writes seconds, or null for None.
func (s Seconds) MarshalJSON() ([]byte, error) {
	if !s.Valid() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, s.Float(), 'f', -1, 64), nil
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*s = None
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("reading seconds %s: %w", b, err)
	}
	*s = Seconds(math.Round(f * float64(time.Second)))
	return nil
}

// Term is a raft term as the members reported it. etcd starts every
// member at term 1, so 0 means that no member reported one (none
// answered): it is written null and shown as none, never as "term 0".
type Term uint64

// Known reports whether some member reported the term.
func (t Term) Known() bool { return t > 0 }

// MarshalJSON writes the term, or null when none is known.
func (t Term) MarshalJSON() ([]byte, error) {
	if !t.Known() {
		return []byte("null"), nil
	}
	return strconv.AppendUint(nil, uint64(t), 10), nil
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (t *Term) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*t = 0
		return nil
	}
	var n uint64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("reading term %s: %w", b, err)
	}
	*t = Term(n)
	return nil
}

// Bound is a histogram bucket's upper bound in seconds, written as
// Prometheus writes its le label ("0.001", "2.048", "+Inf"); 0 is no
// bound (an empty histogram has no quantile), written null.
type Bound float64

// MarshalJSON writes the le label, or null for no bound.
func (b Bound) MarshalJSON() ([]byte, error) {
	if b == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(FormatLe(float64(b)))
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (b *Bound) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		*b = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("reading bucket bound %s: %w", data, err)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return fmt.Errorf("reading bucket bound %q: not a number", s)
	}
	*b = Bound(f)
	return nil
}

// FormatLe writes a histogram bound as Prometheus writes its le label:
// "0.001", "2.048", "+Inf".
func FormatLe(bound float64) string {
	if math.IsInf(bound, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(bound, 'g', -1, 64)
}

// Seconds is the figure in seconds as a float, like time.Duration's.
func (s Seconds) Seconds() float64 { return time.Duration(s).Seconds() }

// String is the duration as time.Duration writes it, or "none".
func (s Seconds) String() string {
	if !s.Valid() {
		return "none"
	}
	return time.Duration(s).String()
}
