package report

import (
	"fmt"
	"strings"
)

// Term is one figure of the report: its name as the tables show it, the
// phases whose window it covers, and how it is computed. Glossary is the
// one place a figure is defined; report.md includes it.
type Term struct {
	Name, Window, Definition string
}

// Glossary defines every figure the comparison shows, in the table's
// order, and the phases they refer to.
var Glossary = []Term{
	{"phases", "",
		"bootstrap: from the moment every member is started until the workload starts, which is as soon as a status round " +
			"naming a leader has come back (a round on a slow disk can take seconds, so this is a little later than the time to " +
			"first leader, which is when that round was asked), or at the end of the wait for one; observation: the steady put " +
			"workload, for the run's duration; check perf: `lab check perf` after the observation, until every member's " +
			"metrics are read again. Status rounds go on through every phase. Times are seconds from the arm's start."},
	{"phase lengths", PerPhase, "how long each phase took, as measured by the host's clock."},
	{"probe fsync p50 / p99", "before the arm, etcd stopped",
		"etcd's recommended probe (2300-byte write + fdatasync, repeated) on each node's data disk with the arm's profile; " +
			"the slowest node's quantiles, measured, not estimated. A disk whose profile has not changed since an earlier " +
			"arm's identical probe is not probed again: the arm shows that probe, and names it (\"probe of hdd\")."},
	{"WAL fsync mean; p50, p99 bucket", "bootstrap + observation",
		"etcd_disk_wal_fsync_duration_seconds of every member, from its fresh start to the end of the observation, summed. " +
			"The mean is exact (sum / count); a quantile is shown as the upper bound of the histogram bucket it falls in " +
			"(\"≤ 2.048 s\"): the histogram says no more, so nothing is interpolated. \"–\" when no member could be read or " +
			"none fsynced."},
	{"WAL fsync mean; p99 bucket", "check perf",
		"the same histogram's increase from the end of the observation to the end of check perf (the metrics read at both " +
			"ends, kept in the evidence), summed over the members."},
	{"time to first leader", "bootstrap",
		"from the start of the members to the first status round (one per second) in which a member names a leader; " +
			"\"never\" when none did. It includes etcd's start-up fsyncs, which no raft timeout changes."},
	{"leader changes after the first", PerPhase,
		"the times the leader named by a status round (the member with the highest term's view) differs from the one before, " +
			"counted in the phase of the round that saw it; the first leader is no change, so a cluster that elected once and kept " +
			"its leader shows 0 / 0 / 0."},
	{"time without leader after the first", PerPhase,
		"after the first leader, the time from each status round in which no member named a leader to the next round, cut at " +
			"the phases' bounds; the bootstrap before the first leader is not in it. An arm that never elected counts every phase whole."},
	{"elections", PerPhase,
		"\"starting a new election\" journal lines (a member's election timeout ran out), summed over the members, per phase."},
	{"pre-vote / vote campaigns", "all phases",
		"\"became pre-candidate\" lines (a pre-vote: asking without raising the term; etcd 3.5+ by default) and " +
			"\"became candidate\" lines (a real vote at a higher term; every election without pre-vote), summed over the members."},
	{"max term: status; journal", "all phases",
		"the highest raft term any member reported in a status round, and the highest term the journal's election lines name " +
			"(a cluster that never elected serves no status, but its members log their campaigns); \"–\" when there is none: " +
			"etcd starts every member at term 1, so no member ever reports term 0."},
	{"heartbeat failures", "bootstrap + observation / check perf",
		"etcd_server_heartbeat_send_failures_total's increase in each window, summed over the members (only a leader sends heartbeats)."},
	{"slow-fsync lines", PerPhase,
		"journal lines of a WAL fsync over 1 s (3.4: \"sync duration of …, expected less than 1s\"; 3.5+: \"slow fdatasync\"), " +
			"summed over the members, per phase."},
	{"put p99, errors", "observation",
		"the steady workload's puts (5 per second, each with a timeout of the larger of 5 s and 2 × the election timeout): " +
			"the 99th percentile of their latencies, failed ones included at the time they took to fail, and how many failed. " +
			"\"–\" when no put succeeded: the latency of puts that all failed is the client's, not etcd's."},
	{"check perf", "check perf",
		"`etcdctl check perf`'s algorithm and pass rules through clientv3: throughput ≥ 90 % of 150 writes/s, " +
			"slowest request ≤ 0.5 s, standard deviation ≤ 0.1 s."},
	{"outcome", "bootstrap + observation",
		"stable when a leader was elected and kept: no leader change after the first, no member naming another leader or a " +
			"higher term afterwards, and always some member naming it; unstable otherwise (never electing included). Check perf's " +
			"window is shown beside it, not judged: it is a stress test, not the workload the arm is about."},
	{"leadership", "bootstrap + observation",
		"stable (the outcome's rule), unstable (elected, then changed leader or term), or never elected; " +
			"printed with the first leader's time, also as a multiple of the control's, and the elections beside the control's."},
	{"disk for etcd", "the probe, the observation and check perf",
		"fit when the probe's fsync p99 ≤ 10 ms (etcd's hardware guidance), the puts' p99 ≤ 1 s with none failed " +
			"(the Kubernetes API's latency SLO for writes) and check perf passes; unfit when the puts break the SLO; " +
			"below etcd's guidance when only the probe or check perf fail. Each rule is printed with its figure."},
	{"control", "the ssd arm",
		"the arm on the ssd profile with etcd's defaults measures this host: its first leader within 10 election timeouts, " +
			"its probe fsync p99 ≤ 200 ms, its guests' CPU steal ≤ 10 %. When one fails, the run is \"inconclusive: " +
			"this host is too slow to judge\" and --strict fails."},
}

// PerPhase is the window of a figure given for each phase in turn.
const PerPhase = "bootstrap / observation / check perf"

// windowOf is the window the glossary gives the figure name; "" when it
// has none.
func windowOf(name string) string {
	for _, t := range Glossary {
		if t.Name == name {
			return t.Window
		}
	}
	return ""
}

// glossarySection is report.md's glossary.
func glossarySection() string {
	var b strings.Builder
	b.WriteString("## Glossary\n\nEvery figure above, defined once; the window says which phases it covers.\n\n")
	for _, t := range Glossary {
		if t.Window == "" {
			fmt.Fprintf(&b, "- **%s**: %s\n", t.Name, t.Definition)
			continue
		}
		fmt.Fprintf(&b, "- **%s** (%s): %s\n", t.Name, t.Window, t.Definition)
	}
	return b.String()
}
