package etcdtest

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// StartTimeout bounds how long Start waits for the members to be ready.
const StartTimeout = 30 * time.Second

// Cluster is a running embedded etcd cluster. It is stopped by t.Cleanup.
type Cluster struct {
	PKI *PKI
	// Names, ClientURLs and PeerURLs are per member, in the same order.
	Names      []string
	ClientURLs []string
	PeerURLs   []string

	logs *observer.ObservedLogs

	mu      sync.Mutex
	members []*embed.Etcd
}

// Start starts one member per name, all with client and peer mutual TLS on
// 127.0.0.1, and returns once every member is ready (the cluster has a
// leader). Ports are picked at random; a start that loses a port to another
// process is retried.
func Start(t testing.TB, names ...string) *Cluster {
	t.Helper()
	dir := t.TempDir()
	pki := NewPKI(t, dir)
	var lastErr error
	for attempt := range 3 {
		c, err := start(filepath.Join(dir, fmt.Sprint(attempt)), pki, names)
		if err == nil {
			t.Cleanup(func() {
				c.Close()
				if t.Failed() {
					for _, e := range c.logs.All() {
						t.Logf("etcd %s: %s %v", e.Level, e.Message, e.ContextMap())
					}
				}
			})
			return c
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("starting embedded etcd cluster: %v", lastErr)
	return nil
}

func start(dir string, pki *PKI, names []string) (*Cluster, error) {
	// Members' warnings are kept, not printed: they show why a test failed
	// and which connections the members refused.
	core, logs := observer.New(zapcore.WarnLevel)
	c := &Cluster{PKI: pki, Names: names, logs: logs}
	var initial []string
	for _, n := range names {
		cport, err := freePort()
		if err != nil {
			return nil, err
		}
		pport, err := freePort()
		if err != nil {
			return nil, err
		}
		c.ClientURLs = append(c.ClientURLs, fmt.Sprintf("https://127.0.0.1:%d", cport))
		c.PeerURLs = append(c.PeerURLs, fmt.Sprintf("https://127.0.0.1:%d", pport))
		initial = append(initial, n+"="+c.PeerURLs[len(c.PeerURLs)-1])
	}
	tls := transport.TLSInfo{
		CertFile:       pki.CertFile,
		KeyFile:        pki.KeyFile,
		TrustedCAFile:  pki.CAFile,
		ClientCertAuth: true,
	}
	for i, n := range names {
		cfg := embed.NewConfig()
		cfg.Name = n
		cfg.Dir = filepath.Join(dir, n)
		cu, pu := mustURL(c.ClientURLs[i]), mustURL(c.PeerURLs[i])
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
		cfg.InitialCluster = strings.Join(initial, ",")
		cfg.InitialClusterToken = "etcdtest"
		cfg.ClientTLSInfo = tls
		cfg.PeerTLSInfo = tls
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.New(core).With(zap.String("member", n)))
		e, err := embed.StartEtcd(cfg)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("starting member %s: %w", n, err)
		}
		c.members = append(c.members, e)
	}
	timeout := time.After(StartTimeout)
	for i, e := range c.members {
		select {
		case <-e.Server.ReadyNotify():
		case err := <-e.Err():
			c.Close()
			return nil, fmt.Errorf("member %s: %w", names[i], err)
		case <-timeout:
			c.Close()
			return nil, fmt.Errorf("members not ready after %s", StartTimeout)
		}
	}
	return c, nil
}

// Stop stops member i, leaving the others running.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	e := c.members[i]
	c.members[i] = nil
	c.mu.Unlock()
	if e != nil {
		e.Close()
	}
}

// Close stops every member still running, one at a time: a leader that
// stops hands leadership to a follower first, which is quick while that
// follower is up but waits out the request timeout (7 s) for one that is
// stopping at the same moment.
func (c *Cluster) Close() {
	c.mu.Lock()
	members := c.members
	c.members = nil
	c.mu.Unlock()
	for _, e := range members {
		if e != nil {
			e.Close()
		}
	}
}

// ClientRejections returns the reasons the members gave so far for refusing
// TLS connections on their client endpoints, e.g. "tls: client didn't
// provide a certificate".
func (c *Cluster) ClientRejections() []string {
	var reasons []string
	for _, e := range c.logs.FilterMessage("rejected connection on client endpoint").All() {
		reasons = append(reasons, fmt.Sprint(e.ContextMap()["error"]))
	}
	return reasons
}

// MemberID returns the raft ID of member i as etcd assigned it.
func (c *Cluster) MemberID(i int) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return uint64(c.members[i].Server.MemberID())
}

// Leader returns the index of the member that believes it leads, or -1.
func (c *Cluster) Leader() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.members {
		if e != nil && e.Server.Leader() == e.Server.MemberID() {
			return i
		}
	}
	return -1
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func mustURL(s string) url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return *u
}
