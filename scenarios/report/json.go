package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// The JSON form is written for people and scripts: lower-case keys,
// durations in seconds (keys ending in _s), the derived outcome, stability
// and verdict of each arm next to the measurements they come from, and
// histogram bounds as Prometheus writes its le label ("0.001", "+Inf").

type reportJSON struct {
	Scenario    string    `json:"scenario"`
	Started     time.Time `json:"started"`
	Host        string    `json:"host"`
	EtcdVersion string    `json:"etcd_version"`
	Duration    float64   `json:"duration_s"`
	// Headline is Headline(r), derived; ignored when read back.
	Headline []string `json:"headline"`
	// Control is Control(r), derived; ignored when read back.
	Control controlJSON `json:"control"`
	// Missing lists the arms without results; empty in a complete report.
	Missing []missingJSON `json:"missing"`
	Arms    []armJSON     `json:"arms"`
}

type controlJSON struct {
	Arm     string     `json:"arm"`
	Healthy bool       `json:"healthy"`
	Verdict string     `json:"verdict"`
	Rules   []ruleJSON `json:"rules"`
	Figures string     `json:"figures,omitempty"`
}

type ruleJSON struct {
	Rule string `json:"rule"`
	OK   bool   `json:"ok"`
}

func rulesJSON(rules []Rule) []ruleJSON {
	out := []ruleJSON{}
	for _, r := range rules {
		out = append(out, ruleJSON{r.Text, r.OK})
	}
	return out
}

type cpuJSON struct {
	Measured  bool    `json:"measured"`
	Steal     float64 `json:"guest_steal"`
	GuestLoad float64 `json:"guest_load1"`
	HostLoad  float64 `json:"host_load1"`
	HostCPUs  int     `json:"host_cpus"`
}

type missingJSON struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

type armJSON struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Profile     string  `json:"profile"`
	EtcdVersion string  `json:"etcd_version,omitempty"`
	PreVoteOff  bool    `json:"pre_vote_off,omitempty"`
	Heartbeat   float64 `json:"heartbeat_s"`
	Election    float64 `json:"election_s"`
	TimeoutRule string  `json:"timeout_rule,omitempty"`
	Expect      string  `json:"expect,omitempty"`

	// Derived by Outcome, Stable and Verdict; ignored when read back.
	Outcome        string     `json:"outcome"`
	Stable         bool       `json:"stable"`
	Verdict        string     `json:"verdict"`
	Leadership     string     `json:"leadership"`
	LeadershipRule string     `json:"leadership_rule"`
	DiskFitness    string     `json:"disk_fitness"`
	DiskRules      []ruleJSON `json:"disk_rules"`

	Probe    probeJSON    `json:"probe"`
	WALFsync walFsyncJSON `json:"wal_fsync"`

	Phases        phasesJSON `json:"phases"`
	LeaderChanges int        `json:"leader_changes"`
	Elections     int        `json:"elections"`
	// Journal counts per phase.
	ElectionsByPhase phaseCountsJSON `json:"elections_by_phase"`
	PreVotes         phaseCountsJSON `json:"pre_vote_campaigns"`
	Votes            phaseCountsJSON `json:"vote_campaigns"`
	SlowFsyncByPhase phaseCountsJSON `json:"slow_fsync_by_phase"`
	MaxTerm          uint64          `json:"max_term"`
	// TimeToFirstLeader is null when no leader was ever elected.
	TimeToFirstLeader *float64 `json:"time_to_first_leader_s"`
	TimeWithoutLeader float64  `json:"time_without_leader_s"`
	HeartbeatFailures int      `json:"heartbeat_failures"`
	SlowFsyncLines    int      `json:"slow_fsync_lines"`

	CPU       cpuJSON       `json:"cpu"`
	Puts      putsJSON      `json:"puts"`
	CheckPerf checkPerfJSON `json:"check_perf"`
	Samples   []sampleJSON  `json:"samples"`
	Evidence  string        `json:"evidence,omitempty"`
}

type phasesJSON struct {
	ObservationStart float64 `json:"observation_start_s"`
	ObservationEnd   float64 `json:"observation_end_s"`
	End              float64 `json:"end_s"`
}

type phaseCountsJSON struct {
	Bootstrap   int `json:"bootstrap"`
	Observation int `json:"observation"`
	CheckPerf   int `json:"check_perf"`
}

// leLabel writes a bucket bound as Prometheus' le label; "" for none.
func leLabel(bound float64) string {
	switch {
	case bound == 0:
		return ""
	case math.IsInf(bound, 1):
		return "+Inf"
	}
	return strconv.FormatFloat(bound, 'g', -1, 64)
}

func parseLe(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64) // "" and garbage read as no bound
	return f
}

type probeJSON struct {
	P50 float64 `json:"fsync_p50_s"`
	P99 float64 `json:"fsync_p99_s"`
	Max float64 `json:"fsync_max_s"`
}

// walFsyncJSON: the exact mean, and the bucket each quantile falls in as
// Prometheus writes its le label ("2.048", "+Inf"; "" with no fsync).
type walFsyncJSON struct {
	Mean    float64      `json:"mean_s"`
	P50Le   string       `json:"p50_le"`
	P99Le   string       `json:"p99_le"`
	Buckets []bucketJSON `json:"buckets"`
}

type bucketJSON struct {
	LE    string  `json:"le"`
	Count float64 `json:"count"`
}

type putsJSON struct {
	Count  int     `json:"count"`
	Errors int     `json:"errors"`
	P99    float64 `json:"p99_s"`
}

type checkPerfJSON struct {
	Ran        bool    `json:"ran"`
	Pass       bool    `json:"pass"`
	Throughput float64 `json:"throughput"`
	Slowest    float64 `json:"slowest_s"`
	Stddev     float64 `json:"stddev_s"`
}

type sampleJSON struct {
	At     float64 `json:"at_s"`
	Member string  `json:"member"`
	Term   uint64  `json:"term"`
	Leader string  `json:"leader"`
}

// WriteJSON writes the report as report.json, indented.
func WriteJSON(w io.Writer, r Report) error {
	out := reportJSON{
		Scenario:    r.Scenario,
		Started:     r.Started,
		Host:        r.Host,
		EtcdVersion: r.EtcdVersion,
		Duration:    seconds(r.Duration),
		Arms:        make([]armJSON, len(r.Arms)),
		Missing:     []missingJSON{},
	}
	out.Headline = Headline(r)
	c := Control(r)
	out.Control = controlJSON{Arm: c.Arm, Healthy: c.Healthy, Verdict: c.Line(), Rules: rulesJSON(c.Rules), Figures: c.Figures}
	for _, m := range r.Missing {
		out.Missing = append(out.Missing, missingJSON{Name: m.Name, Reason: m.Reason})
	}
	for i, a := range r.Arms {
		out.Arms[i] = armToJSON(a)
		out.Arms[i].Leadership, out.Arms[i].LeadershipRule = Leadership(a, controlArm(r))
		fit, rules := DiskFitness(a)
		out.Arms[i].DiskFitness, out.Arms[i].DiskRules = fit, rulesJSON(rules)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encoding report json: %w", err)
	}
	if _, err := w.Write(collapseLeaves(b.Bytes())); err != nil {
		return fmt.Errorf("writing report json: %w", err)
	}
	return nil
}

// collapseLeaves puts every object that holds only scalars on one line, so
// that samples and buckets read one to a line instead of six.
func collapseLeaves(in []byte) []byte {
	var out bytes.Buffer
	for i := 0; i < len(in); i++ {
		if in[i] == '"' {
			end := stringEnd(in, i)
			out.Write(in[i:end])
			i = end - 1
			continue
		}
		if in[i] != '{' {
			out.WriteByte(in[i])
			continue
		}
		end, leaf := leafEnd(in, i)
		if !leaf {
			out.WriteByte(in[i])
			continue
		}
		for j := i; j < end; j++ {
			switch c := in[j]; {
			case c == '"':
				k := stringEnd(in, j)
				out.Write(in[j:k])
				j = k - 1
			case c == ' ' || c == '\n' || c == '\t':
			case c == ':' || c == ',':
				out.WriteByte(c)
				out.WriteByte(' ')
			default:
				out.WriteByte(c)
			}
		}
		i = end - 1
	}
	return out.Bytes()
}

// stringEnd returns the index just past the JSON string starting at i.
func stringEnd(in []byte, i int) int {
	for j := i + 1; j < len(in); j++ {
		switch in[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(in)
}

// leafEnd returns the index just past the object starting at i, and whether
// it holds no object or array.
func leafEnd(in []byte, i int) (int, bool) {
	for j := i + 1; j < len(in); j++ {
		switch in[j] {
		case '"':
			j = stringEnd(in, j) - 1
		case '{', '[':
			return 0, false
		case '}':
			return j + 1, true
		}
	}
	return 0, false
}

func armToJSON(a Arm) armJSON {
	j := armJSON{
		Name:        a.Name,
		Description: a.Description,
		Profile:     a.Profile,
		EtcdVersion: a.EtcdVersion,
		PreVoteOff:  a.PreVoteOff,
		Heartbeat:   seconds(a.Heartbeat),
		Election:    seconds(a.Election),
		TimeoutRule: a.TimeoutRule,
		Expect:      a.Expect,
		Outcome:     Outcome(a),
		Stable:      Stable(a),
		Verdict:     a.verdict(),
		Probe:       probeJSON{seconds(a.FsyncP50), seconds(a.FsyncP99), seconds(a.FsyncMax)},
		WALFsync: walFsyncJSON{
			Mean:    seconds(a.WALFsyncMean),
			P50Le:   leLabel(a.WALFsyncP50Le),
			P99Le:   leLabel(a.WALFsyncP99Le),
			Buckets: make([]bucketJSON, len(a.FsyncBuckets)),
		},
		Phases:            phasesJSON{seconds(a.Phases.ObservationStart), seconds(a.Phases.ObservationEnd), seconds(a.Phases.End)},
		LeaderChanges:     a.LeaderChanges,
		Elections:         a.Elections,
		ElectionsByPhase:  phaseCountsJSON(a.ElectionsByPhase),
		PreVotes:          phaseCountsJSON(a.PreVotes),
		Votes:             phaseCountsJSON(a.Votes),
		SlowFsyncByPhase:  phaseCountsJSON(a.SlowFsyncByPhase),
		MaxTerm:           a.MaxTerm,
		TimeWithoutLeader: seconds(a.TimeWithoutLeader),
		HeartbeatFailures: a.HeartbeatFailures,
		SlowFsyncLines:    a.SlowFsyncLines,
		CPU:               cpuJSON(a.CPU),
		Puts:              putsJSON{a.PutCount, a.PutErrors, seconds(a.PutP99)},
		CheckPerf: checkPerfJSON{
			Ran:        a.CheckPerf.Ran,
			Pass:       a.CheckPerf.Pass,
			Throughput: a.CheckPerf.Throughput,
			Slowest:    seconds(a.CheckPerf.Slowest),
			Stddev:     seconds(a.CheckPerf.Stddev),
		},
		Samples:  make([]sampleJSON, len(a.Samples)),
		Evidence: a.Evidence,
	}
	if a.Elected() {
		s := seconds(a.TimeToFirstLeader)
		j.TimeToFirstLeader = &s
	}
	for i, b := range a.FsyncBuckets {
		j.WALFsync.Buckets[i] = bucketJSON{strconv.FormatFloat(b.UpperBound, 'g', -1, 64), b.Count}
	}
	for i, s := range a.Samples {
		j.Samples[i] = sampleJSON{seconds(s.At), s.Member, s.Term, s.Leader}
	}
	return j
}

// ReadJSON reads a report that WriteJSON wrote. Each arm's Verdict is the
// verdict written; the derived outcome and stability are not read back
// (Outcome and Stable recompute them).
func ReadJSON(rd io.Reader) (Report, error) {
	var in reportJSON
	if err := json.NewDecoder(rd).Decode(&in); err != nil {
		return Report{}, fmt.Errorf("reading report json: %w", err)
	}
	r := Report{
		Scenario:    in.Scenario,
		Started:     in.Started,
		Host:        in.Host,
		EtcdVersion: in.EtcdVersion,
		Duration:    fromSeconds(in.Duration),
	}
	for _, j := range in.Arms {
		a, err := armFromJSON(j)
		if err != nil {
			return Report{}, fmt.Errorf("reading report json: arm %q: %w", j.Name, err)
		}
		r.Arms = append(r.Arms, a)
	}
	for _, m := range in.Missing {
		r.Missing = append(r.Missing, Missing{Name: m.Name, Reason: m.Reason})
	}
	return r, nil
}

func armFromJSON(j armJSON) (Arm, error) {
	a := Arm{
		Name:              j.Name,
		Description:       j.Description,
		Profile:           j.Profile,
		EtcdVersion:       j.EtcdVersion,
		PreVoteOff:        j.PreVoteOff,
		Heartbeat:         fromSeconds(j.Heartbeat),
		Election:          fromSeconds(j.Election),
		TimeoutRule:       j.TimeoutRule,
		Expect:            j.Expect,
		FsyncP50:          fromSeconds(j.Probe.P50),
		FsyncP99:          fromSeconds(j.Probe.P99),
		FsyncMax:          fromSeconds(j.Probe.Max),
		WALFsyncMean:      fromSeconds(j.WALFsync.Mean),
		WALFsyncP50Le:     parseLe(j.WALFsync.P50Le),
		WALFsyncP99Le:     parseLe(j.WALFsync.P99Le),
		Phases:            Phases{fromSeconds(j.Phases.ObservationStart), fromSeconds(j.Phases.ObservationEnd), fromSeconds(j.Phases.End)},
		LeaderChanges:     j.LeaderChanges,
		Elections:         j.Elections,
		ElectionsByPhase:  PhaseCounts(j.ElectionsByPhase),
		PreVotes:          PhaseCounts(j.PreVotes),
		Votes:             PhaseCounts(j.Votes),
		SlowFsyncByPhase:  PhaseCounts(j.SlowFsyncByPhase),
		MaxTerm:           j.MaxTerm,
		TimeToFirstLeader: Never,
		TimeWithoutLeader: fromSeconds(j.TimeWithoutLeader),
		HeartbeatFailures: j.HeartbeatFailures,
		SlowFsyncLines:    j.SlowFsyncLines,
		CPU:               CPU(j.CPU),
		PutCount:          j.Puts.Count,
		PutErrors:         j.Puts.Errors,
		PutP99:            fromSeconds(j.Puts.P99),
		CheckPerf: CheckPerf{
			Ran:        j.CheckPerf.Ran,
			Pass:       j.CheckPerf.Pass,
			Throughput: j.CheckPerf.Throughput,
			Slowest:    fromSeconds(j.CheckPerf.Slowest),
			Stddev:     fromSeconds(j.CheckPerf.Stddev),
		},
		Verdict:  j.Verdict,
		Evidence: j.Evidence,
	}
	if j.TimeToFirstLeader != nil {
		a.TimeToFirstLeader = fromSeconds(*j.TimeToFirstLeader)
	}
	for _, b := range j.WALFsync.Buckets {
		le, err := strconv.ParseFloat(b.LE, 64)
		if err != nil || math.IsNaN(le) {
			return Arm{}, fmt.Errorf("parsing bucket bound %q: not a number", b.LE)
		}
		a.FsyncBuckets = append(a.FsyncBuckets, Bucket{le, b.Count})
	}
	for _, s := range j.Samples {
		a.Samples = append(a.Samples, Sample{fromSeconds(s.At), s.Member, s.Term, s.Leader})
	}
	return a, nil
}
