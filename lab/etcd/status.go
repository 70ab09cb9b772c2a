package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// Status is one endpoint's view of the cluster, as in etcdctl endpoint status.
type Status struct {
	Endpoint string `json:"endpoint"`
	// ID is the member serving this endpoint.
	ID MemberID `json:"id"`
	// Leader is the member this endpoint follows; 0 when it knows none.
	Leader    MemberID `json:"leader"`
	RaftTerm  uint64   `json:"raftTerm"`
	RaftIndex uint64   `json:"raftIndex"`
	Version   string   `json:"version"`
	// DBSize is the backend database size in bytes.
	DBSize    int64 `json:"dbSize"`
	IsLearner bool  `json:"isLearner"`
	// Errors are the member's own alarms and errors.
	Errors []string `json:"errors,omitempty"`
	// Err is why the endpoint could not be asked; the other fields are then
	// zero.
	Err error `json:"-"`
}

// IsLeader says whether this endpoint's member is the leader.
func (s Status) IsLeader() bool { return s.Err == nil && s.ID != 0 && s.ID == s.Leader }

// EndpointStatus asks every endpoint, in parallel, for its status. It returns
// one Status per endpoint in the configured order, with Err set for those
// that did not answer, and those errors joined.
func (c *Client) EndpointStatus(ctx context.Context) ([]Status, error) {
	out := perEndpoint(c.cfg.Endpoints, func(ep string) Status {
		ctx, cancel := context.WithTimeout(ctx, c.cfg.requestTimeout())
		defer cancel()
		resp, err := c.cli.Status(ctx, ep)
		if err != nil {
			return Status{Endpoint: ep, Err: fmt.Errorf("getting status of etcd endpoint %s: %w", ep, err)}
		}
		return Status{
			Endpoint:  ep,
			ID:        MemberID(resp.Header.MemberId),
			Leader:    MemberID(resp.Leader),
			RaftTerm:  resp.RaftTerm,
			RaftIndex: resp.RaftIndex,
			Version:   resp.Version,
			DBSize:    resp.DbSize,
			IsLearner: resp.IsLearner,
			Errors:    resp.Errors,
		}
	})
	var errs []error
	for _, s := range out {
		errs = append(errs, s.Err)
	}
	return out, errors.Join(errs...)
}

// Health is one endpoint's health, judged as etcdctl endpoint health does.
type Health struct {
	Endpoint string        `json:"endpoint"`
	Healthy  bool          `json:"health"`
	Took     time.Duration `json:"took"`
	// Err says why the endpoint is unhealthy.
	Err error `json:"-"`
}

// Health checks every endpoint in parallel the way etcdctl endpoint health
// does: a linearizable read through that endpoint alone must succeed (so the
// member must be connected to a quorum with a leader) and no alarm may be
// raised. It returns one Health per endpoint, in order, and the unhealthy
// endpoints' errors joined.
func (c *Client) Health(ctx context.Context) ([]Health, error) {
	out := perEndpoint(c.cfg.Endpoints, func(ep string) Health {
		h := Health{Endpoint: ep}
		h.Err = c.endpointHealth(ctx, ep, &h.Took)
		h.Healthy = h.Err == nil
		if h.Err != nil {
			h.Err = fmt.Errorf("etcd endpoint %s unhealthy: %w", ep, h.Err)
		}
		return h
	})
	var errs []error
	for _, h := range out {
		errs = append(errs, h.Err)
	}
	return out, errors.Join(errs...)
}

func (c *Client) endpointHealth(ctx context.Context, ep string, took *time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.requestTimeout())
	defer cancel()
	cli, err := newClientv3(ctx, c.cfg, []string{ep})
	if err != nil {
		return err
	}
	defer cli.Close()
	start := time.Now()
	_, err = cli.Get(ctx, "health")
	*took = time.Since(start)
	// Permission denied still proves the member served a quorum read.
	if err != nil && !errors.Is(err, rpctypes.ErrPermissionDenied) {
		return err
	}
	alarms, err := cli.AlarmList(ctx)
	if err != nil {
		return fmt.Errorf("listing alarms: %w", err)
	}
	if len(alarms.Alarms) > 0 {
		var names []string
		for _, a := range alarms.Alarms {
			names = append(names, fmt.Sprintf("%s on %s", a.Alarm, MemberID(a.MemberID)))
		}
		return fmt.Errorf("active alarm(s): %s", strings.Join(names, ", "))
	}
	return nil
}

// perEndpoint calls f for every endpoint in parallel, keeping their order.
func perEndpoint[T any](endpoints []string, f func(ep string) T) []T {
	out := make([]T, len(endpoints))
	var wg sync.WaitGroup
	for i, ep := range endpoints {
		wg.Go(func() { out[i] = f(ep) })
	}
	wg.Wait()
	return out
}
