package measure_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/lab/etcd/etcdtest"
	"github.com/kthw-lab/lab/scenarios/measure"
)

// TestFetchMetricsOverMutualTLS reads a real member's /metrics the way the
// scenario does, through the client certificate.
func TestFetchMetricsOverMutualTLS(t *testing.T) {
	c := etcdtest.Start(t, "m0")
	url := c.ClientURLs[0] + "/metrics"
	client := measure.HTTPClient(&tls.Config{RootCAs: c.PKI.CA, Certificates: []tls.Certificate{c.PKI.Cert}}, nil)

	s, err := measure.FetchMetrics(t.Context(), client, url)
	if err != nil {
		t.Fatal(err)
	}
	if !s.HasLeader || !s.IsLeader || s.LeaderChanges != 1 || s.WALFsync.Count == 0 || len(s.WALFsync.Buckets) != 14 { // 1 ms doubling to 8.192 s
		t.Errorf("single member's metrics = %+v, want the leader, one leader change, WAL fsyncs in etcd's buckets", s)
	}

	// The member demands a client certificate, as the lab's do.
	anonymous := measure.HTTPClient(&tls.Config{RootCAs: c.PKI.CA}, nil)
	if _, err := measure.FetchMetrics(t.Context(), anonymous, url); err == nil || !strings.Contains(err.Error(), url) {
		t.Errorf("fetching without a client certificate: err = %v, want a failure naming %s", err, url)
	}
}
