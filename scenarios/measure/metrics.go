package measure

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The metric families a Snapshot keeps. etcd 3.4 and 3.6 export them under
// the same names.
const (
	metricHasLeader             = "etcd_server_has_leader"
	metricIsLeader              = "etcd_server_is_leader"
	metricLeaderChanges         = "etcd_server_leader_changes_seen_total"
	metricHeartbeatSendFailures = "etcd_server_heartbeat_send_failures_total"
	metricProposalsFailed       = "etcd_server_proposals_failed_total"
	metricProposalsCommitted    = "etcd_server_proposals_committed_total"
	metricWALFsync              = "etcd_disk_wal_fsync_duration_seconds"
	metricBackendCommit         = "etcd_disk_backend_commit_duration_seconds"
	metricPeerRoundTrip         = "etcd_network_peer_round_trip_time_seconds"
)

// Snapshot is what one member's /metrics said at one moment, reduced to the
// figures an arm compares. After Delta the counters and histograms cover a
// window instead.
type Snapshot struct {
	// HasLeader and IsLeader are gauges: the member knows a leader, and is
	// the leader.
	HasLeader bool `json:"hasLeader"`
	IsLeader  bool `json:"isLeader"`
	// LeaderChanges counts the leaders this member has seen, including the
	// first one it learnt of.
	LeaderChanges uint64 `json:"leaderChanges"`
	// HeartbeatSendFailures counts heartbeats a leader sent later than
	// twice the heartbeat interval, the counter of etcd's "failed to send
	// out heartbeat on time" warning.
	HeartbeatSendFailures uint64 `json:"heartbeatSendFailures"`
	ProposalsFailed       uint64 `json:"proposalsFailed"`
	ProposalsCommitted    uint64 `json:"proposalsCommitted"`
	// WALFsync is the latency of the write-ahead log's fdatasync, the one a
	// slow disk stretches, and BackendCommit that of bbolt's commits.
	WALFsync      Histogram `json:"walFsync"`
	BackendCommit Histogram `json:"backendCommit"`
	// PeerRoundTrip is the round-trip time of the probes to each peer, by
	// the peer's member ID in hex.
	PeerRoundTrip map[string]Histogram `json:"peerRoundTrip,omitempty"`
}

// ParseMetrics reads the Prometheus text exposition of an etcd member's
// /metrics. Families it does not keep are ignored; text without etcd's
// server metrics is an error.
func ParseMetrics(r io.Reader) (Snapshot, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return Snapshot{}, fmt.Errorf("parsing etcd metrics: %w", err)
	}
	if families[metricHasLeader] == nil {
		return Snapshot{}, fmt.Errorf("parsing etcd metrics: no %s: not an etcd member's /metrics", metricHasLeader)
	}
	s := Snapshot{
		HasLeader:             scalar(families[metricHasLeader]) == 1,
		IsLeader:              scalar(families[metricIsLeader]) == 1,
		LeaderChanges:         count(families[metricLeaderChanges]),
		HeartbeatSendFailures: count(families[metricHeartbeatSendFailures]),
		ProposalsFailed:       count(families[metricProposalsFailed]),
		ProposalsCommitted:    count(families[metricProposalsCommitted]),
	}
	if s.WALFsync, err = histogram(families[metricWALFsync]); err != nil {
		return Snapshot{}, err
	}
	if s.BackendCommit, err = histogram(families[metricBackendCommit]); err != nil {
		return Snapshot{}, err
	}
	if mf := families[metricPeerRoundTrip]; mf != nil {
		s.PeerRoundTrip = map[string]Histogram{}
		for _, m := range mf.GetMetric() {
			h, err := toHistogram(mf.GetName(), m)
			if err != nil {
				return Snapshot{}, err
			}
			s.PeerRoundTrip[label(m, "To")] = h
		}
	}
	return s, nil
}

// Delta returns what happened between earlier and s, two scrapes of the same
// member: counters and histograms as increases (a counter that went down
// means the member restarted, and counts from zero again), gauges as s has
// them.
func (s Snapshot) Delta(earlier Snapshot) Snapshot {
	d := Snapshot{
		HasLeader:             s.HasLeader,
		IsLeader:              s.IsLeader,
		LeaderChanges:         increase(s.LeaderChanges, earlier.LeaderChanges),
		HeartbeatSendFailures: increase(s.HeartbeatSendFailures, earlier.HeartbeatSendFailures),
		ProposalsFailed:       increase(s.ProposalsFailed, earlier.ProposalsFailed),
		ProposalsCommitted:    increase(s.ProposalsCommitted, earlier.ProposalsCommitted),
		WALFsync:              s.WALFsync.Sub(earlier.WALFsync),
		BackendCommit:         s.BackendCommit.Sub(earlier.BackendCommit),
	}
	if s.PeerRoundTrip != nil {
		d.PeerRoundTrip = map[string]Histogram{}
		for peer, h := range s.PeerRoundTrip {
			d.PeerRoundTrip[peer] = h.Sub(earlier.PeerRoundTrip[peer])
		}
	}
	return d
}

func increase(later, earlier uint64) uint64 {
	if later < earlier {
		return later
	}
	return later - earlier
}

// HTTPClient returns a client for members' /metrics that presents the
// lab's client certificate and trusts its CA, as clientv3 does. It dials
// with dial (the tunnel's, for a remote libvirt host's guests: lab.Host.Dial);
// nil dials directly.
func HTTPClient(cfg *tls.Config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	if dial != nil {
		t.DialContext = dial
	}
	return &http.Client{Transport: t, Timeout: 10 * time.Second}
}

// FetchMetricsText gets the /metrics text of a member, e.g.
// https://192.168.199.200:2379/metrics, for keeping as evidence.
func FetchMetricsText(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching metrics from %s: %w", url, err)
	}
	// The text format, which ParseMetrics reads, whatever else the
	// member could offer.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching metrics from %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading metrics from %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching metrics from %s: %s", url, resp.Status)
	}
	return body, nil
}

// FetchMetrics gets and parses the /metrics of a member.
func FetchMetrics(ctx context.Context, client *http.Client, url string) (Snapshot, error) {
	text, err := FetchMetricsText(ctx, client, url)
	if err != nil {
		return Snapshot{}, err
	}
	s, err := ParseMetrics(bytes.NewReader(text))
	if err != nil {
		return Snapshot{}, fmt.Errorf("metrics from %s: %w", url, err)
	}
	return s, nil
}

// scalar is the value of a family's only gauge or counter, 0 when absent.
func scalar(mf *dto.MetricFamily) float64 {
	if mf == nil || len(mf.GetMetric()) == 0 {
		return 0
	}
	m := mf.GetMetric()[0]
	if g := m.GetGauge(); g != nil {
		return g.GetValue()
	}
	return m.GetCounter().GetValue()
}

// count is a counter's value as the whole number etcd's counters are.
func count(mf *dto.MetricFamily) uint64 {
	return uint64(math.Round(scalar(mf)))
}

func histogram(mf *dto.MetricFamily) (Histogram, error) {
	if mf == nil || len(mf.GetMetric()) == 0 {
		return Histogram{}, nil
	}
	return toHistogram(mf.GetName(), mf.GetMetric()[0])
}

func toHistogram(name string, m *dto.Metric) (Histogram, error) {
	ph := m.GetHistogram()
	if ph == nil {
		return Histogram{}, fmt.Errorf("parsing etcd metrics: %s is not a histogram", name)
	}
	h := Histogram{Count: ph.GetSampleCount(), Sum: ph.GetSampleSum()}
	for _, b := range ph.GetBucket() {
		if math.IsInf(b.GetUpperBound(), +1) {
			continue
		}
		h.Buckets = append(h.Buckets, Bucket{UpperBound: b.GetUpperBound(), Count: b.GetCumulativeCount()})
	}
	for i := 1; i < len(h.Buckets); i++ {
		if h.Buckets[i].UpperBound <= h.Buckets[i-1].UpperBound || h.Buckets[i].Count < h.Buckets[i-1].Count {
			return Histogram{}, fmt.Errorf("parsing etcd metrics: %s has buckets out of order", name)
		}
	}
	return h, nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
