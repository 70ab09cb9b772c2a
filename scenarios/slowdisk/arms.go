package slowdisk

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/lab/spec"
)

// Arm is one configuration of the experiment.
type Arm struct {
	Name        string
	Description string
	// Profile is the data disks' profile (guest.SSD or guest.HDD).
	Profile string
	// Heartbeat and Election are etcd's raft timeouts; zero with Tuned.
	Heartbeat, Election time.Duration
	// Tuned derives the timeouts from the fsync latency probed on the
	// arm's disk (TuneRule).
	Tuned bool
	// Expect is the outcome the arm should show: "stable" or "unstable".
	Expect string
	// EtcdVersion is the etcd the arm runs ("v3.4.23"), installed on the
	// guests for the arm from the cache; "" runs the lab's own.
	EtcdVersion string
	// NoPreVote turns pre-vote off (etcd 3.5+ turns it on by default; 3.4
	// has it off already), through ETCD_PRE_VOTE=false.
	NoPreVote bool
}

// Arms of the slow-disk scenario, in the order they run.
var Arms = []Arm{
	{Name: "ssd", Description: fmt.Sprintf("data disks on the ssd profile, heartbeat %d ms, election %d ms (etcd's defaults)",
		etcd.DefaultHeartbeatInterval.Milliseconds(), etcd.DefaultElectionTimeout.Milliseconds()),
		Profile: guest.SSD, Heartbeat: etcd.DefaultHeartbeatInterval, Election: etcd.DefaultElectionTimeout, Expect: "stable"},
	{Name: "hdd", Description: "a laptop hard disk shared by the three VMs (fsync ≈ 1 s), etcd's default timeouts: the story's failure",
		Profile: guest.HDD, Heartbeat: etcd.DefaultHeartbeatInterval, Election: etcd.DefaultElectionTimeout},
	{Name: "hdd-tuned", Description: "the same hard disk with raft timeouts from etcd's tuning guide and the measured round trip",
		Profile: guest.HDD, Tuned: true, Expect: "stable"},
}

// ExtraArms run only when named in --arms: they answer a question of their
// own and cost an arm's time.
var ExtraArms = []Arm{
	{Name: "hdd-noprevote", Description: "the hard disk with etcd's default timeouts and pre-vote off (3.4's default): " +
		"is pre-vote what saves a fresh 3.5+ cluster?", Profile: guest.HDD, Heartbeat: etcd.DefaultHeartbeatInterval,
		Election: etcd.DefaultElectionTimeout, NoPreVote: true},
}

// TuneRule says how hdd-tuned derives its timeouts, and from where; its
// figures are Tune's constants and etcd's (lab/etcd).
var TuneRule = fmt.Sprintf("heartbeat = the round trip including fsync (the probe's fsync p99 on the slowest node, at least "+
	"100 writes or 30 s; the network's share is under a millisecond between these VMs), rounded up to %d ms; "+
	"election = %d × heartbeat; within etcd's limits (election ≤ %d ms and ≥ %d × heartbeat). ",
	tuneStep.Milliseconds(), tuneElectionRatio, spec.MaxElectionTimeout.Milliseconds(), spec.MinElectionHeartbeatRatio) +
	"Source: etcd's tuning guide (https://etcd.io/docs/v3.5/tuning/): the heartbeat interval around the round-trip " +
	"time between members, the election timeout at least 10 times it"

// tuneElectionRatio is the tuning guide's election timeout in round trips.
const tuneElectionRatio = 10

// tuneStep is what the tuned heartbeat is rounded up to; it is never below
// etcd's default.
const tuneStep = 100 * time.Millisecond

// Tune applies TuneRule to a measured round trip (the probe's fsync p99).
func Tune(roundTrip time.Duration) (heartbeat, election time.Duration) {
	heartbeat = max(etcd.DefaultHeartbeatInterval, (roundTrip + tuneStep - time.Millisecond).Truncate(tuneStep))
	election = min(tuneElectionRatio*heartbeat, spec.MaxElectionTimeout)
	return min(heartbeat, election/spec.MinElectionHeartbeatRatio), election
}

// Select returns the named arms (the default ones for none), in the order
// given. A name may carry an etcd version, "hdd@v3.4.23": the arm then
// runs that etcd, taken from the cache.
func Select(names []string) ([]Arm, error) {
	if len(names) == 0 {
		return Arms, nil
	}
	var out []Arm
	seen := map[string]bool{}
	for _, n := range names {
		base, ver, versioned := strings.Cut(strings.TrimSpace(n), "@")
		i := slices.IndexFunc(AllArms(), func(a Arm) bool { return a.Name == base })
		if i < 0 {
			return nil, fmt.Errorf("slow-disk has no arm %q: its arms are %s, each optionally @VERSION (hdd@v3.4.23)", base, strings.Join(armNames(), ", "))
		}
		a := AllArms()[i]
		if versioned {
			if !IsEtcdVersion(ver) {
				return nil, fmt.Errorf("--arms %s: %q is not an etcd version such as v3.4.23", n, ver)
			}
			a.Name, a.EtcdVersion = base+"@"+ver, ver
			a.Description += ", on etcd " + ver
			a.Expect = "" // the expectations are the lab's etcd's
		}
		if seen[a.Name] {
			return nil, fmt.Errorf("--arms names %s twice", a.Name)
		}
		seen[a.Name] = true
		out = append(out, a)
	}
	return out, nil
}

var versionPattern = regexp.MustCompile(`^v3\.\d+\.\d+$`)

// IsEtcdVersion tells whether v names an etcd 3 release as arms and cells
// take it (v3.4.23): it becomes part of arm names and file names.
func IsEtcdVersion(v string) bool { return versionPattern.MatchString(v) }

// AllArms are the arms Select accepts: the default ones, then the extra.
func AllArms() []Arm { return append(slices.Clone(Arms), ExtraArms...) }

func armNames() []string {
	var out []string
	for _, a := range AllArms() {
		out = append(out, a.Name)
	}
	return out
}

// Name and Summary describe the scenario for `lab scenario list`.
const (
	Name    = "slow-disk"
	Summary = "Why the story's cluster kept electing leaders on a notebook's hard disk, that an SSD fixes it, " +
		"and whether longer raft timeouts would have fixed it too. Each arm wipes etcd and bootstraps the " +
		"cluster afresh on its disk, then observes it under a steady write workload and runs check perf."
)

// Explain is the arm's description for `lab scenario list`, with the
// tuned arm's rule.
func (a Arm) Explain() string {
	if a.Tuned {
		return a.Description + ": " + TuneRule
	}
	return a.Description
}
