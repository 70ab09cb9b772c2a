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
		"bootstrap: from the moment every member is started to the first status round in which a member names a leader " +
			"(or to the end of the wait for one); observation: the steady put workload, for the run's duration; " +
			"check perf: `lab check perf` after the observation. Times are seconds from the arm's start."},
	{"phases: boot / obs / perf", "each phase", "how long each phase took, as measured by the host's clock."},
	{"fsync p50 / p99 (probe)", "before the arm, etcd stopped",
		"etcd's recommended probe (2300-byte write + fdatasync, repeated) on each node's data disk with the arm's profile; " +
			"the slowest node's quantiles, measured, not estimated."},
	{"WAL fsync mean; p50, p99 bucket", "bootstrap + observation",
		"etcd_disk_wal_fsync_duration_seconds of every member, from its fresh start to the end of the observation, summed. " +
			"The mean is exact (sum / count); a quantile is shown as the upper bound of the histogram bucket it falls in " +
			"(\"≤ 2.048 s\"): the histogram says no more, so nothing is interpolated."},
	{"time to first leader", "bootstrap",
		"from the start of the members to the first status round (one per second) in which a member names a leader; " +
			"\"never\" when none did. It includes etcd's start-up fsyncs, which no raft timeout changes."},
	{"leader changes after the first", "bootstrap + observation",
		"the times the leader named by a status round (the member with the highest term's view) differs from the one before; " +
			"the first leader is no change, so a cluster that elected once and kept its leader shows 0."},
	{"elections (boot / obs / perf)", "each phase",
		"\"starting a new election\" journal lines (a member's election timeout ran out), summed over the members, per phase."},
	{"pre-vote / vote campaigns", "all phases",
		"\"became pre-candidate\" lines (a pre-vote: asking without raising the term; etcd 3.5+ by default) and " +
			"\"became candidate\" lines (a real vote at a higher term; every election without pre-vote), summed over the members."},
	{"max term", "bootstrap + observation", "the highest raft term any member reported in a status round."},
	{"time without leader (after the first)", "observation",
		"after the first leader, the time from each status round in which no member named a leader to the next round; " +
			"the bootstrap is not in it. An arm that never elected counts its whole window."},
	{"heartbeat failures", "bootstrap + observation",
		"etcd_server_heartbeat_send_failures_total, summed over the members (only a leader sends heartbeats)."},
	{"slow-fsync lines (boot / obs / perf)", "each phase",
		"journal lines of a WAL fsync over 1 s (3.4: \"sync duration of …, expected less than 1s\"; 3.5+: \"slow fdatasync\"), " +
			"summed over the members, per phase."},
	{"put p99, errors", "observation",
		"the steady workload's puts (5 per second, each with a timeout of the larger of 5 s and 2 × the election timeout): " +
			"the 99th percentile of their latencies, failed ones included at the time they took to fail, and how many failed."},
	{"check perf", "check perf",
		"`etcdctl check perf`'s algorithm and pass rules through clientv3: throughput ≥ 90 % of 150 writes/s, " +
			"slowest request ≤ 0.5 s, standard deviation ≤ 0.1 s."},
	{"outcome", "bootstrap + observation",
		"stable when a leader was elected and kept: no leader change after the first, no member naming another leader or a " +
			"higher term afterwards, and always some member naming it; unstable otherwise (never electing included)."},
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
