package measure

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kind is a kind of etcd log line that tells the slow-disk story.
type Kind string

// The kinds of line ClassifyLine recognises, in etcd 3.4's words and in
// those of 3.5 and later.
const (
	// SlowFsync: a WAL fdatasync took over a second. 3.4: "sync duration
	// of 1.04s, expected less than 1s"; 3.5+: "slow fdatasync".
	SlowFsync Kind = "slow-fsync"
	// ElectionStart: a member's election timeout ran out and it campaigns:
	// "... is starting a new election at term N" (raft, all versions).
	ElectionStart Kind = "election-start"
	// PreVoteCampaign: a member whose election timeout ran out asks its
	// peers whether they would vote for it, without raising its term
	// (pre-vote, on by default from etcd 3.5): "... became pre-candidate at
	// term N".
	PreVoteCampaign Kind = "pre-vote-campaign"
	// VoteCampaign: a member raises its term and asks for votes: "...
	// became candidate at term N". Without pre-vote every election is one;
	// with it, only a pre-vote that won becomes one.
	VoteCampaign Kind = "vote-campaign"
	// HeartbeatLate: the leader sent a heartbeat later than twice the
	// heartbeat interval: "failed to send out heartbeat on time".
	HeartbeatLate Kind = "heartbeat-late"
	// ApplySlow: a request took over 100 ms to apply. 3.4: "request ...
	// took too long (...) to execute"; 3.5+: "apply request took too long".
	ApplySlow Kind = "apply-slow"
	// Elected: the member learnt of a newly elected leader: "raft.node: ...
	// elected leader ... at term N" or "changed leader from ... to ... at
	// term N".
	Elected Kind = "elected"
	// PeerUnreachable: the prober failed to reach a peer. 3.4: "health
	// check for peer ... could not connect"; 3.5+: "prober detected
	// unhealthy status".
	PeerUnreachable Kind = "peer-unreachable"
)

// Kinds lists every Kind, in the order reports show them.
var Kinds = []Kind{SlowFsync, ElectionStart, PreVoteCampaign, VoteCampaign, Elected, HeartbeatLate, ApplySlow, PeerUnreachable}

// Event is one classified log line.
type Event struct {
	Kind Kind
	// Time is when the journal recorded the line, or etcd's own timestamp
	// when the line has no journal prefix; zero when neither is there.
	Time time.Time
	// Host is the journal's host name, which is the node's name in the lab.
	Host string
	// Term is the raft term the line names (election-start, elected).
	Term uint64
	// Duration is how long the operation took: the fsync (slow-fsync), the
	// request (apply-slow), or how late the heartbeat was (heartbeat-late).
	Duration time.Duration
	// Peer is the member ID the line is about (peer-unreachable,
	// heartbeat-late in 3.5+, elected: the new leader).
	Peer string
	Raw  string
}

var (
	// journalPrefix is `journalctl -o short-iso-precise`:
	// "2024-05-14T10:23:45.123456+0000 k8smaster0 etcd[1234]: message".
	journalPrefix = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) (\S+) [^\s:\[]+(?:\[\d+\])?: (.*)$`)
	// capnslogPrefix is etcd 3.4's own format when it logs to stderr
	// rather than to the journal: "2024-05-14 10:23:45.123456 W | wal: ".
	capnslogPrefix = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) [A-Z] \| (?:[\w./-]+: )?(.*)$`)
	// goLogPrefix is etcd 3.4's raft logger: "raft2024/05/14 10:23:45 INFO: ".
	goLogPrefix = regexp.MustCompile(`^raft(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) [A-Z]+: (.*)$`)

	syncDuration     = regexp.MustCompile(`^sync duration of (\S+), expected less than`)
	newElection      = regexp.MustCompile(`is starting a new election at term (\d+)`)
	becamePre        = regexp.MustCompile(`became pre-candidate at term (\d+)`)
	becameCandidate  = regexp.MustCompile(`became candidate at term (\d+)`)
	electedLeader    = regexp.MustCompile(`(?:elected leader|changed leader from \S+ to) ([0-9a-f]+) at term (\d+)`)
	heartbeatLate34  = regexp.MustCompile(`failed to send out heartbeat on time \(exceeded the \S+ timeout for ([^,)]+)(?:, to ([0-9a-f]+))?\)`)
	requestTooLong34 = regexp.MustCompile(`request .* took too long \(([^)]+)\) to execute$`)
	healthCheck34    = regexp.MustCompile(`^health check for peer ([0-9a-f]+) could not connect`)
)

// ClassifyLine recognises a line of etcd's journal (as `journalctl -u etcd
// -o short-iso-precise` prints it) or of its stderr, in the log formats of
// etcd 3.4 (capnslog text, raft's own logger) and 3.5+ (zap JSON). It
// returns false for lines of no Kind.
func ClassifyLine(line string) (Event, bool) {
	ev := Event{Raw: line}
	msg := strings.TrimRight(line, "\r\n")
	if m := journalPrefix.FindStringSubmatch(msg); m != nil {
		ev.Time = parseJournalTime(m[1])
		ev.Host, msg = m[2], m[3]
	}
	if strings.HasPrefix(msg, "{") {
		return classifyJSON(ev, msg)
	}
	if m := capnslogPrefix.FindStringSubmatch(msg); m != nil {
		if ev.Time.IsZero() {
			ev.Time, _ = time.ParseInLocation("2006-01-02 15:04:05.999999", m[1], time.Local)
		}
		msg = m[2]
	} else if m := goLogPrefix.FindStringSubmatch(msg); m != nil {
		if ev.Time.IsZero() {
			ev.Time, _ = time.ParseInLocation("2006/01/02 15:04:05", m[1], time.Local)
		}
		msg = m[2]
	}
	return classifyText(ev, msg)
}

// classifyText reads etcd 3.4's messages and raft's, which every version
// formats alike.
func classifyText(ev Event, msg string) (Event, bool) {
	switch {
	case syncDuration.MatchString(msg):
		ev.Kind = SlowFsync
		ev.Duration, _ = time.ParseDuration(syncDuration.FindStringSubmatch(msg)[1])
	case newElection.MatchString(msg):
		ev.Kind = ElectionStart
		ev.Term = parseTerm(newElection.FindStringSubmatch(msg)[1])
	case becamePre.MatchString(msg):
		ev.Kind, ev.Term = PreVoteCampaign, parseTerm(becamePre.FindStringSubmatch(msg)[1])
	case becameCandidate.MatchString(msg):
		ev.Kind, ev.Term = VoteCampaign, parseTerm(becameCandidate.FindStringSubmatch(msg)[1])
	case electedLeader.MatchString(msg):
		m := electedLeader.FindStringSubmatch(msg)
		ev.Kind, ev.Peer, ev.Term = Elected, m[1], parseTerm(m[2])
	case strings.Contains(msg, "failed to send out heartbeat on time"):
		ev.Kind = HeartbeatLate
		if m := heartbeatLate34.FindStringSubmatch(msg); m != nil {
			ev.Duration, _ = time.ParseDuration(m[1])
			ev.Peer = m[2]
		}
	case requestTooLong34.MatchString(msg):
		ev.Kind = ApplySlow
		ev.Duration, _ = time.ParseDuration(requestTooLong34.FindStringSubmatch(msg)[1])
	case strings.HasPrefix(msg, "apply entries took too long"):
		ev.Kind = ApplySlow
	case healthCheck34.MatchString(msg):
		ev.Kind = PeerUnreachable
		ev.Peer = healthCheck34.FindStringSubmatch(msg)[1]
	default:
		return Event{}, false
	}
	return ev, true
}

// zapLine is the part of a zap JSON line the kinds need.
type zapLine struct {
	TS       json.RawMessage `json:"ts"`
	Msg      string          `json:"msg"`
	Took     string          `json:"took"`
	Exceeded string          `json:"exceeded-duration"`
	To       string          `json:"to"`
	PeerID   string          `json:"remote-peer-id"`
}

// classifyJSON reads the zap JSON of etcd 3.5+ (and of 3.4 with
// --logger=zap).
func classifyJSON(ev Event, line string) (Event, bool) {
	var z zapLine
	if err := json.Unmarshal([]byte(line), &z); err != nil {
		return Event{}, false
	}
	if ev.Time.IsZero() {
		ev.Time = parseZapTime(z.TS)
	}
	switch {
	case z.Msg == "slow fdatasync":
		ev.Kind = SlowFsync
		ev.Duration, _ = time.ParseDuration(z.Took)
	case strings.Contains(z.Msg, "failed to send out heartbeat on time"):
		ev.Kind = HeartbeatLate
		ev.Duration, _ = time.ParseDuration(z.Exceeded)
		ev.Peer = z.To
	case z.Msg == "apply request took too long":
		ev.Kind = ApplySlow
		ev.Duration, _ = time.ParseDuration(z.Took)
	case z.Msg == "prober detected unhealthy status":
		ev.Kind = PeerUnreachable
		ev.Peer = z.PeerID
	default:
		// raft's messages are text inside the JSON.
		return classifyText(ev, z.Msg)
	}
	return ev, true
}

// ParseJournal classifies every line of a journal excerpt and returns the
// events, in order.
func ParseJournal(r io.Reader) ([]Event, error) {
	var events []Event
	sc := bufio.NewScanner(r)
	// A zap line carrying a whole request can be long.
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		if ev, ok := ClassifyLine(sc.Text()); ok {
			events = append(events, ev)
		}
	}
	if err := sc.Err(); err != nil {
		return events, fmt.Errorf("reading etcd journal: %w", err)
	}
	return events, nil
}

// CountEvents counts the events of each kind.
func CountEvents(events []Event) map[Kind]int {
	counts := map[Kind]int{}
	for _, ev := range events {
		counts[ev.Kind]++
	}
	return counts
}

func parseTerm(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// parseJournalTime reads journalctl's ISO time, whose offset is "+0000" up
// to systemd 254 and "+00:00" after.
func parseJournalTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// parseZapTime reads zap's "ts": ISO 8601 text in etcd 3.5+, seconds since
// the epoch as a number with zap's default encoder.
func parseZapTime(raw json.RawMessage) time.Time {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		t, _ := time.Parse(time.RFC3339Nano, s)
		return t
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil && f > 0 {
		sec, frac := int64(f), f-float64(int64(f))
		return time.Unix(sec, int64(frac*1e9))
	}
	return time.Time{}
}
