package etcd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kthw-lab/lab/lab/wait"
)

// QuorumKeyPrefix is where Quorum writes its probe keys; each probe deletes its
// key again.
const QuorumKeyPrefix = "/lab/probe/"

// Quorum checks that the cluster is what the lab built and can serve writes:
// the members are exactly expectedNames and all started, every endpoint
// answers and names the same leader, that leader is a member, and a put, a
// get and a delete of a probe key succeed. It reports every problem it finds,
// joined. Each step is bounded by the configured request timeout.
func (c *Client) Quorum(ctx context.Context, expectedNames []string) error {
	var errs []error
	members, err := c.members(ctx)
	if err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, checkMembers(members, expectedNames))
	}
	statuses, err := c.EndpointStatus(ctx)
	errs = append(errs, err)
	if err == nil {
		errs = append(errs, checkLeader(statuses, members))
	}
	errs = append(errs, c.probe(ctx))
	return errors.Join(errs...)
}

func (c *Client) members(ctx context.Context) ([]Member, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.requestTimeout())
	defer cancel()
	return c.Members(ctx)
}

// checkMembers compares the member list with the names the lab expects.
func checkMembers(members []Member, expected []string) error {
	var errs []error
	var names []string
	for _, m := range members {
		switch {
		case m.Status != MemberStarted:
			errs = append(errs, fmt.Errorf("etcd member %s (peer %s) not started", m.ID, strings.Join(m.PeerURLs, ",")))
		case !slices.Contains(expected, m.Name):
			errs = append(errs, fmt.Errorf("unexpected etcd member %s (%s)", m.Name, m.ID))
		case m.IsLearner:
			errs = append(errs, fmt.Errorf("etcd member %s is still a learner", m.Name))
		}
		names = append(names, m.Name)
	}
	for _, n := range expected {
		if !slices.Contains(names, n) {
			errs = append(errs, fmt.Errorf("etcd member %s missing from the member list", n))
		}
	}
	return errors.Join(errs...)
}

// checkLeader requires every endpoint to follow one and the same leader, and
// that leader to be a listed member (members may be nil when the list could
// not be read).
func checkLeader(statuses []Status, members []Member) error {
	leaders := map[MemberID][]string{}
	for _, s := range statuses {
		if s.Leader == 0 {
			return fmt.Errorf("etcd endpoint %s has no leader (raft term %d)", s.Endpoint, s.RaftTerm)
		}
		leaders[s.Leader] = append(leaders[s.Leader], s.Endpoint)
	}
	if len(leaders) > 1 {
		var views []string
		for id, eps := range leaders {
			views = append(views, fmt.Sprintf("%s → %s", strings.Join(eps, ","), id))
		}
		slices.Sort(views)
		return fmt.Errorf("etcd endpoints disagree on the leader: %s", strings.Join(views, "; "))
	}
	for id := range leaders {
		if members != nil && !slices.ContainsFunc(members, func(m Member) bool { return m.ID == id }) {
			return fmt.Errorf("etcd leader %s is not a listed member", id)
		}
	}
	return nil
}

// probe writes, reads back and deletes a key of its own.
func (c *Client) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.requestTimeout())
	defer cancel()
	var b [8]byte
	_, _ = rand.Read(b[:])
	key, value := QuorumKeyPrefix+hex.EncodeToString(b[:]), "probe "+hex.EncodeToString(b[:])
	if _, err := c.cli.Put(ctx, key, value); err != nil {
		return fmt.Errorf("writing etcd probe key %s: %w", key, err)
	}
	resp, err := c.cli.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("reading etcd probe key %s: %w", key, err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != value {
		return fmt.Errorf("reading etcd probe key %s: got %d values, want %q", key, len(resp.Kvs), value)
	}
	if _, err := c.cli.Delete(ctx, key); err != nil {
		return fmt.Errorf("deleting etcd probe key %s: %w", key, err)
	}
	return nil
}

// QuorumCondition is "etcd quorum": it holds when Quorum passes on a fresh
// client for cfg.
func QuorumCondition(cfg ClientConfig, expectedNames []string) wait.Condition {
	return wait.Condition{
		Name: "etcd quorum",
		Check: func(ctx context.Context) error {
			c, err := New(ctx, cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			return c.Quorum(ctx, expectedNames)
		},
	}
}
