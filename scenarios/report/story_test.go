package report

import (
	"math"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
)

// The story as a synthetic three-arm report: what slow-disk is expected to
// find. ssd elects at once and keeps its leader; hdd (fsync ≈ 1.1 s, default
// timeouts) elects late, loses its leader again and again and climbs to term
// 40; hdd-tuned (same disk, timeouts from the measured fsync) elects once
// and keeps it.

var members = []string{"k8smaster0", "k8smaster1", "k8smaster2"}

// phase is a stretch of an arm's history: a leader at term from (to ==
// from), or no leader while the members' terms climb from..to.
type phase struct {
	start, end float64 // seconds
	leader     string
	from, to   uint64
}

// samplesOf samples every member once a second (starting at 0.4 s, members
// 30 ms apart) through phases. While there is no leader each member's term
// climbs on its own schedule, as competing candidates' do.
func samplesOf(end float64, phases ...phase) []Sample {
	var out []Sample
	lag := []float64{0, 0.45, -0.4}
	for t := 0.4; t < end; t++ {
		for i, m := range members {
			at := t + 0.03*float64(i)
			for _, p := range phases {
				if at < p.start || at >= p.end {
					continue
				}
				s := Sample{At: dur(at), Member: m, Term: p.from, Leader: p.leader}
				if p.leader == "" && p.to > p.from {
					f := (at-p.start)/(p.end-p.start)*float64(p.to-p.from) + lag[i]
					s.Term = p.from + uint64(math.Max(0, math.Min(f, float64(p.to-p.from))))
				}
				out = append(out, s)
			}
		}
	}
	return out
}

func dur(s float64) measure.Seconds { return measure.Seconds(math.Round(s * float64(time.Second))) }

// cumulative turns per-bucket counts (over etcd's bounds, then +Inf) into
// Prometheus buckets.
func cumulative(counts ...float64) []Bucket {
	bounds := append(append([]float64{}, etcdFsyncBounds...), math.Inf(1))
	var out []Bucket
	total := 0.0
	for i, b := range bounds {
		if i < len(counts) {
			total += counts[i]
		}
		out = append(out, Bucket{UpperBound: measure.Bound(b), Count: total})
	}
	return out
}

func story() Report {
	ssd := Arm{
		Name:          "ssd",
		Description:   "data disks on the ssd profile with etcd's default timeouts",
		Profile:       "ssd",
		Heartbeat:     measure.Seconds(100 * time.Millisecond),
		Election:      measure.Seconds(1000 * time.Millisecond),
		Expect:        OutcomeStable,
		FsyncP50:      measure.Seconds(2100 * time.Microsecond),
		FsyncP99:      measure.Seconds(7900 * time.Microsecond),
		FsyncMax:      measure.Seconds(14 * time.Millisecond),
		WALFsyncMean:  measure.Seconds(2600 * time.Microsecond),
		WALFsyncP50Le: 0.004,
		WALFsyncP99Le: 0.016,
		//                         1ms  2ms   4ms   8ms   16ms 32ms 64ms 128ms
		FsyncBuckets:      cumulative(120, 2400, 4100, 2200, 160, 25, 6, 1),
		Phases:            Phases{ObservationStart: dur(3.4), ObservationEnd: dur(93.4), End: dur(113.4)},
		WallTimes:         wall(4.2, -1, 1.1, 4.8, 3.4, 90, 20, 2.3),
		CheckPerfMetrics:  measure.MetricsWindow{Measured: true, WALFsyncCount: 9012, WALFsyncMean: measure.Seconds(3100 * time.Microsecond), WALFsyncP99Le: 0.016},
		JournalMaxTerm:    2,
		LeaderChanges:     0,
		Elections:         2,
		ElectionsByPhase:  PhaseCounts{Bootstrap: 2, Observation: 0, CheckPerf: 0},
		PreVotes:          PhaseCounts{Bootstrap: 2, Observation: 0, CheckPerf: 0},
		Votes:             PhaseCounts{Bootstrap: 1, Observation: 0, CheckPerf: 0},
		MaxTerm:           2,
		TimeToFirstLeader: dur(3.4),
		HeartbeatFailures: 0,
		SlowFsyncLines:    0,
		PutCount:          2700,
		PutP99:            measure.Seconds(14 * time.Millisecond),
		CheckPerf:         CheckPerf{Ran: true, Pass: true, Throughput: 149.6, Slowest: measure.Seconds(210 * time.Millisecond), Stddev: measure.Seconds(31 * time.Millisecond)},
		Samples: samplesOf(90,
			phase{0, 3, "", 1, 1},
			phase{3, 90, "k8smaster1", 2, 2}),
		Evidence: "ssd",
	}
	hdd := Arm{
		Name:          "hdd",
		Description:   "the same VMs on the emulated laptop HDD with the default timeouts: the story",
		Profile:       "hdd",
		Heartbeat:     measure.Seconds(100 * time.Millisecond),
		Election:      measure.Seconds(1000 * time.Millisecond),
		Expect:        OutcomeUnstable,
		FsyncP50:      measure.Seconds(1060 * time.Millisecond),
		FsyncP99:      measure.Seconds(1120 * time.Millisecond),
		FsyncMax:      measure.Seconds(1310 * time.Millisecond),
		WALFsyncMean:  measure.Seconds(1090 * time.Millisecond),
		WALFsyncP50Le: 2.048,
		WALFsyncP99Le: 4.096,
		//                  1ms 2ms 4ms 8ms 16ms 32ms 64ms 128ms 256ms 512ms 1.024s 2.048s 4.096s 8.192s
		FsyncBuckets:             cumulative(0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 96, 168, 21, 2),
		Phases:                   Phases{ObservationStart: dur(14.4), ObservationEnd: dur(104.4), End: dur(124.4)},
		WallTimes:                wall(4.0, -1, 1.2, 30.4, 14.4, 90, 20, 2.9),
		CheckPerfMetrics:         measure.MetricsWindow{Measured: true, HeartbeatFailures: 19, WALFsyncCount: 61, WALFsyncMean: measure.Seconds(1120 * time.Millisecond), WALFsyncP99Le: 2.048},
		JournalMaxTerm:           41,
		LeaderChanges:            4,
		LeaderChangesByPhase:     PhaseCounts{Observation: 4},
		TimeWithoutLeaderByPhase: measure.PhaseDuration{Observation: measure.Seconds(30 * time.Second)},
		Elections:                53,
		ElectionsByPhase:         PhaseCounts{Bootstrap: 12, Observation: 38, CheckPerf: 3},
		PreVotes:                 PhaseCounts{Bootstrap: 12, Observation: 38, CheckPerf: 3},
		Votes:                    PhaseCounts{Bootstrap: 6, Observation: 20, CheckPerf: 1},
		SlowFsyncByPhase:         PhaseCounts{Bootstrap: 20, Observation: 100, CheckPerf: 9},
		MaxTerm:                  40,
		TimeToFirstLeader:        dur(14.4),
		TimeWithoutLeader:        measure.Seconds(30 * time.Second),
		HeartbeatFailures:        86,
		SlowFsyncLines:           129,
		PutCount:                 41,
		PutErrors:                17,
		PutP99:                   measure.Seconds(4900 * time.Millisecond),
		CheckPerf:                CheckPerf{Ran: true, Throughput: 11.2, Slowest: measure.Seconds(6300 * time.Millisecond), Stddev: measure.Seconds(1900 * time.Millisecond)},
		Samples: samplesOf(90,
			phase{0, 2, "", 1, 1},
			phase{2, 14, "", 1, 14},
			phase{14, 26, "k8smaster2", 14, 14},
			phase{26, 35, "", 14, 22},
			phase{35, 44, "k8smaster0", 22, 22},
			phase{44, 52, "", 22, 29},
			phase{52, 60, "k8smaster1", 29, 29},
			phase{60, 67, "", 29, 35},
			phase{67, 75, "k8smaster2", 35, 35},
			phase{75, 81, "", 35, 40},
			phase{81, 90, "k8smaster0", 40, 40}),
		Evidence: "hdd",
	}
	tuned := Arm{
		Name:          "hdd-tuned",
		Description:   "the emulated HDD again, with raft timeouts derived from the fsync latency the probe measured",
		Profile:       "hdd",
		Heartbeat:     measure.Seconds(600 * time.Millisecond),
		Election:      measure.Seconds(6000 * time.Millisecond),
		TimeoutRule:   "election = 5 × fsync p99 rounded up to a second, heartbeat = election / 10",
		Expect:        OutcomeStable,
		FsyncP50:      measure.Seconds(1050 * time.Millisecond),
		FsyncP99:      measure.Seconds(1110 * time.Millisecond),
		FsyncMax:      measure.Seconds(1290 * time.Millisecond),
		WALFsyncMean:  measure.Seconds(1070 * time.Millisecond),
		WALFsyncP50Le: 1.024,
		WALFsyncP99Le: 4.096,
		//                  1ms 2ms 4ms 8ms 16ms 32ms 64ms 128ms 256ms 512ms 1.024s 2.048s 4.096s
		FsyncBuckets:      cumulative(0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 140, 121, 9),
		Phases:            Phases{ObservationStart: dur(12.4), ObservationEnd: dur(102.4), End: dur(122.4)},
		WallTimes:         wall(4.1, -1, 1.2, 30.2, 12.4, 90, 20, 2.7),
		CheckPerfMetrics:  measure.MetricsWindow{Measured: true, HeartbeatFailures: 7, WALFsyncCount: 70, WALFsyncMean: measure.Seconds(1080 * time.Millisecond), WALFsyncP99Le: 2.048},
		JournalMaxTerm:    2,
		LeaderChanges:     0,
		Elections:         1,
		ElectionsByPhase:  PhaseCounts{Bootstrap: 1, Observation: 0, CheckPerf: 0},
		PreVotes:          PhaseCounts{Bootstrap: 1, Observation: 0, CheckPerf: 0},
		Votes:             PhaseCounts{Bootstrap: 1, Observation: 0, CheckPerf: 0},
		SlowFsyncByPhase:  PhaseCounts{Bootstrap: 10, Observation: 95, CheckPerf: 13},
		MaxTerm:           2,
		TimeToFirstLeader: dur(12.4),
		HeartbeatFailures: 31,
		SlowFsyncLines:    118,
		PutCount:          44,
		PutP99:            measure.Seconds(2300 * time.Millisecond),
		CheckPerf:         CheckPerf{Ran: true, Throughput: 12.4, Slowest: measure.Seconds(3400 * time.Millisecond), Stddev: measure.Seconds(610 * time.Millisecond)},
		Samples: samplesOf(90,
			phase{0, 8, "", 1, 1},
			phase{8, 12, "", 2, 2},
			phase{12, 90, "k8smaster0", 2, 2}),
		Evidence: "hdd-tuned",
	}
	return Report{
		Scenario:    "slow-disk",
		Started:     time.Date(2025, 1, 14, 22, 50, 0, 0, time.UTC),
		Host:        "lab-ci (2 cores, TCG)",
		EtcdVersion: "3.6.16",
		Duration:    measure.Seconds(90 * time.Second),
		Elapsed:     dur(487),
		Arms:        []Arm{ssd, hdd, tuned},
	}
}

// wall is an arm's WallTimes from its steps in seconds (negative: not
// taken); the total is their sum.
func wall(steps ...float64) measure.WallTimes {
	w, total := measure.NoWallTimes, 0.0
	fields := []*measure.Seconds{&w.Reset, &w.EtcdInstall, &w.Profile, &w.Probe, &w.Bootstrap, &w.Observation, &w.CheckPerf, &w.Collect}
	for i, s := range steps {
		if s >= 0 {
			*fields[i] = dur(s)
			total += s
		}
	}
	w.Total = dur(total)
	return w
}
