package etcd_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/etcd/etcdtest"
	"github.com/kthw-lab/lab/lab/wait"
)

var names = []string{"k8smaster0", "k8smaster1", "k8smaster2"}

// TestCluster runs every check against one real three-member cluster with
// mutual TLS, started once because starting it is the slow part.
func TestCluster(t *testing.T) {
	cl := etcdtest.Start(t, names...)
	cfg := etcd.ClientConfig{Endpoints: cl.ClientURLs, TLS: cl.PKI.ClientTLS(), DialTimeout: time.Second, RequestTimeout: time.Second}
	c, err := etcd.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer c.Close()

	t.Run("members", func(t *testing.T) {
		members, err := c.Members(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(members) != len(names) {
			t.Fatalf("%d members, want %d: %+v", len(members), len(names), members)
		}
		for _, m := range members {
			i := slices.Index(names, m.Name)
			if i < 0 {
				t.Errorf("unexpected member %+v", m)
				continue
			}
			if m.Status != etcd.MemberStarted || m.IsLearner {
				t.Errorf("member %s: status %q, learner %v", m.Name, m.Status, m.IsLearner)
			}
			if uint64(m.ID) != cl.MemberID(i) {
				t.Errorf("member %s: ID %s, the server says %x", m.Name, m.ID, cl.MemberID(i))
			}
			if !slices.Equal(m.ClientURLs, []string{cl.ClientURLs[i]}) || !slices.Equal(m.PeerURLs, []string{cl.PeerURLs[i]}) {
				t.Errorf("member %s: URLs %v %v", m.Name, m.PeerURLs, m.ClientURLs)
			}
		}
	})

	t.Run("member table as etcdctl prints it", func(t *testing.T) {
		members, err := c.Members(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.V3().MemberList(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := members.WriteTable(&buf); err != nil {
			t.Fatal(err)
		}
		if want := etcdctlTable(t, *resp); buf.String() != want {
			t.Errorf("member table:\n%s\netcdctl prints:\n%s", buf.String(), want)
		}
		if n := strings.Count(buf.String(), " started | k8smaster"); n != 3 {
			t.Errorf("%d started rows, want 3:\n%s", n, buf.String())
		}
	})

	t.Run("endpoint status shows one leader", func(t *testing.T) {
		statuses, err := c.EndpointStatus(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		leader := etcd.MemberID(cl.MemberID(cl.Leader()))
		var leaders int
		for i, s := range statuses {
			if s.Endpoint != cl.ClientURLs[i] || uint64(s.ID) != cl.MemberID(i) {
				t.Errorf("status %d = %+v, want endpoint %s member %x", i, s, cl.ClientURLs[i], cl.MemberID(i))
			}
			if s.Leader != leader || s.RaftTerm == 0 || s.Version == "" || s.DBSize == 0 {
				t.Errorf("status of %s = %+v, want leader %s", s.Endpoint, s, leader)
			}
			if s.IsLeader() {
				leaders++
			}
		}
		if leaders != 1 {
			t.Errorf("%d endpoints say they lead, want 1", leaders)
		}
	})

	t.Run("health", func(t *testing.T) {
		health, err := c.Health(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range health {
			if h.Endpoint != cl.ClientURLs[i] || !h.Healthy || h.Took <= 0 {
				t.Errorf("health %d = %+v", i, h)
			}
		}
	})

	t.Run("quorum", func(t *testing.T) {
		if err := c.Quorum(t.Context(), names); err != nil {
			t.Fatalf("Quorum: %v", err)
		}
		left, err := c.V3().Get(t.Context(), etcd.QuorumKeyPrefix, clientv3.WithPrefix())
		if err != nil || len(left.Kvs) != 0 {
			t.Errorf("probe keys left behind: %v, %v", left, err)
		}
		if err := wait.Until(t.Context(), nil, etcd.QuorumCondition(cfg, names), 10*time.Second, 100*time.Millisecond); err != nil {
			t.Errorf("waiting for quorum: %v", err)
		}
	})

	t.Run("quorum with other names fails", func(t *testing.T) {
		err := c.Quorum(t.Context(), []string{"k8smaster0", "k8smaster1", "k8smaster3"})
		if err == nil {
			t.Fatal("Quorum passed with a member the lab does not expect")
		}
		for _, want := range []string{"unexpected etcd member k8smaster2", "etcd member k8smaster3 missing"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	})

	t.Run("client without certificate refused", func(t *testing.T) {
		before := len(cl.ClientRejections())
		nc, err := etcd.New(t.Context(), etcd.ClientConfig{Endpoints: cl.ClientURLs, TLS: cl.PKI.NoCertTLS(), DialTimeout: time.Second})
		if err == nil {
			defer nc.Close()
			_, err = nc.Members(t.Context())
			t.Fatalf("a client without a certificate connected; listing members: %v", err)
		}
		// The client sees "tls: certificate required" or, when the server
		// hangs up first, a broken pipe; the server always says why.
		if !strings.Contains(err.Error(), "connecting to etcd at "+cl.ClientURLs[0]) {
			t.Errorf("error %q does not say what failed", err)
		}
		if r := cl.ClientRejections()[before:]; len(r) == 0 || !strings.Contains(r[0], "didn't provide a certificate") {
			t.Errorf("members' reasons for refusing: %q", r)
		}
	})

	t.Run("stopped member", func(t *testing.T) {
		stopped := (cl.Leader() + 1) % len(names) // keep the leader, avoid an election
		cl.Stop(stopped)
		statuses, err := c.EndpointStatus(t.Context())
		if err == nil || !strings.Contains(err.Error(), cl.ClientURLs[stopped]) {
			t.Errorf("EndpointStatus with a stopped member: %v", err)
		}
		for i, s := range statuses {
			if (s.Err != nil) != (i == stopped) {
				t.Errorf("status %d: err %v", i, s.Err)
			}
		}
		health, err := c.Health(t.Context())
		if err == nil {
			t.Error("Health passed with a stopped member")
		}
		for i, h := range health {
			if h.Healthy == (i == stopped) {
				t.Errorf("health %d = %+v", i, h)
			}
		}
		err = c.Quorum(t.Context(), names)
		if err == nil || !strings.Contains(err.Error(), cl.ClientURLs[stopped]) {
			t.Errorf("Quorum with a stopped member: %v", err)
		}
		werr := wait.Until(t.Context(), nil, etcd.QuorumCondition(cfg, names), 3*time.Second, 100*time.Millisecond)
		if !errors.Is(werr, context.DeadlineExceeded) || !strings.Contains(werr.Error(), "waiting for etcd quorum: timed out") {
			t.Errorf("waiting for quorum with a stopped member: %v", werr)
		}
	})
}
