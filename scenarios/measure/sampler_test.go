package measure

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kthw-lab/lab/lab/etcd"
)

const memberA, memberB, memberC etcd.MemberID = 0xa, 0xb, 0xc

// script is a fake cluster whose members' status changes with the (fake)
// time since start: no leader until 3 s, a leader A at term 2 until 10 s,
// member c unreachable and the others leaderless at term 3 until 12 s, then
// leader B at term 4, with a stuck at term 3 believing it still leads.
func script(start time.Time) StatusFunc {
	return func(ctx context.Context) ([]etcd.Status, error) {
		at := time.Since(start)
		st := func(ep string, id etcd.MemberID, term uint64, leader etcd.MemberID) etcd.Status {
			return etcd.Status{Endpoint: ep, ID: id, RaftTerm: term, Leader: leader}
		}
		var out []etcd.Status
		switch {
		case at < 3*time.Second:
			out = []etcd.Status{st("https://a", memberA, 1, 0), st("https://b", memberB, 1, 0), st("https://c", memberC, 1, 0)}
		case at < 10*time.Second:
			out = []etcd.Status{st("https://a", memberA, 2, memberA), st("https://b", memberB, 2, memberA), st("https://c", memberC, 2, memberA)}
		case at < 12*time.Second:
			down := etcd.Status{Endpoint: "https://c", Err: errors.New("context deadline exceeded")}
			out = []etcd.Status{st("https://a", memberA, 3, 0), st("https://b", memberB, 3, 0), down}
		default:
			// a, cut off, still thinks it leads at the old term; the
			// highest term wins.
			out = []etcd.Status{st("https://a", memberA, 3, memberA), st("https://b", memberB, 4, memberB), st("https://c", memberC, 4, memberB)}
		}
		var errs []error
		for _, s := range out {
			errs = append(errs, s.Err)
		}
		return out, errors.Join(errs...)
	}
}

func TestSampler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		s := &Sampler{
			Status: script(start),
			Start:  start,
			Names:  map[string]string{"https://a": "k8smaster0", "https://b": "k8smaster1"},
		}
		tl := s.Run(ctx)

		rounds := tl.Rounds()
		if len(rounds) != 20 || len(tl.Samples) != 60 || tl.End != 20*time.Second {
			t.Fatalf("%d rounds, %d samples, end %s; want 20 rounds of 3 each second, end 20s", len(rounds), len(tl.Samples), tl.End)
		}
		for i, r := range rounds {
			if r[0].At != time.Duration(i)*time.Second {
				t.Errorf("round %d at %s, want %ds", i, r[0].At, i)
			}
		}
		if got := [3]string{rounds[0][0].Member, rounds[0][1].Member, rounds[0][2].Member}; got != [3]string{"k8smaster0", "k8smaster1", "https://c"} {
			t.Errorf("members = %v, want the names given and the endpoint for c", got)
		}
		if r := rounds[10][2]; r.Err == nil || r.Member != "https://c" {
			t.Errorf("round 10's c = %+v, want its error", r)
		}

		if d, ok := tl.TimeToFirstLeader(); !ok || d != 3*time.Second {
			t.Errorf("TimeToFirstLeader = %s, %v; want 3s", d, ok)
		}
		if n := tl.LeaderChanges(); n != 1 {
			t.Errorf("LeaderChanges = %d, want 1 (A to B)", n)
		}
		if d := tl.TimeWithoutLeader(); d != 2*time.Second {
			t.Errorf("TimeWithoutLeader = %s, want 2s (10-12 s; the bootstrap 0-3 s is not in it)", d)
		}
		if n := tl.MaxTerm(); n != 4 {
			t.Errorf("MaxTerm = %d, want 4", n)
		}
		if leader, term, ok := RoundLeader(rounds[15]); !ok || leader != memberB || term != 4 {
			t.Errorf("RoundLeader at 15 s = %s at %d, want b at 4", leader, term)
		}
	})
}

// A status request slower than the interval delays the next round rather
// than piling up; a failure to ask anyone is a leaderless round.
func TestSamplerSlowAndFailing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		status := func(ctx context.Context) ([]etcd.Status, error) {
			calls++
			if calls == 2 {
				return nil, fmt.Errorf("no endpoint answered")
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(2500 * time.Millisecond):
			}
			return []etcd.Status{{Endpoint: "https://a", ID: memberA, RaftTerm: 2, Leader: memberA}}, nil
		}
		ctx, cancel := context.WithTimeout(t.Context(), 8*time.Second)
		defer cancel()
		tl := (&Sampler{Status: status}).Run(ctx)

		var ats []time.Duration
		for _, r := range tl.Rounds() {
			ats = append(ats, r[0].At)
		}
		// 0 (2.5 s) → 3 (fails at once) → 4 (2.5 s) → 7 (cut short by ctx at 8 s: dropped).
		want := []time.Duration{0, 3 * time.Second, 4 * time.Second}
		if fmt.Sprint(ats) != fmt.Sprint(want) {
			t.Errorf("rounds at %v, want %v", ats, want)
		}
		if s := tl.Samples[1]; s.Err == nil || s.Member != "" {
			t.Errorf("failed round = %+v, want one sample with the error", s)
		}
		if d := tl.TimeWithoutLeader(); d != time.Second {
			t.Errorf("TimeWithoutLeader = %s, want 1s (the failed round until the next)", d)
		}
		if d, ok := tl.TimeToFirstLeader(); !ok || d != 0 {
			t.Errorf("TimeToFirstLeader = %s, %v; want 0", d, ok)
		}
	})
}

func TestTimelineWithoutLeader(t *testing.T) {
	tl := Timeline{End: 4 * time.Second}
	for i := range 4 {
		tl.Samples = append(tl.Samples, Sample{At: time.Duration(i) * time.Second, Member: "a", Term: uint64(100 + i)})
	}
	if _, ok := tl.TimeToFirstLeader(); ok {
		t.Error("TimeToFirstLeader found a leader in a leaderless timeline")
	}
	if d := tl.TimeWithoutLeader(); d != 4*time.Second {
		t.Errorf("TimeWithoutLeader = %s, want the whole 4s up to End", d)
	}
	if tl.LeaderChanges() != 0 || tl.MaxTerm() != 103 {
		t.Errorf("LeaderChanges, MaxTerm = %d, %d; want 0, 103", tl.LeaderChanges(), tl.MaxTerm())
	}
}
