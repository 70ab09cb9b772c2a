package lab

import (
	"cmp"
	"context"
	"fmt"

	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/virt"
)

// NodeOverview is one row of `lab status`.
type NodeOverview struct {
	Node     string        `json:"node"`
	Domain   string        `json:"domain"`
	State    virt.State    `json:"state"`
	Address  string        `json:"address"`
	DataPool string        `json:"dataPool"`
	Member   etcd.MemberID `json:"member,omitempty"`
	Leader   bool          `json:"leader"`
	Term     uint64        `json:"raftTerm,omitempty"`
	Healthy  bool          `json:"healthy"`
	Error    string        `json:"error,omitempty"`
}

// Overview is what `lab status` shows: the lab and each node.
type Overview struct {
	Lab   string         `json:"lab"`
	Phase Phase          `json:"phase"`
	Accel string         `json:"accel"`
	Etcd  string         `json:"etcd"`
	Nodes []NodeOverview `json:"nodes"`
	// Degraded lists why the lab is not healthy: a node whose domain does
	// not run or whose member is unhealthy, or a cluster without a leader.
	// Empty (and `lab status` exits 0) when every member is healthy and
	// one of them leads.
	Degraded []string `json:"degraded"`
	// Boot is the lab's boot as create saw it (State.Boot); nil for a lab
	// whose create did not finish.
	Boot *BootTimeline `json:"boot,omitempty"`
}

// degraded is Report.Degraded, from the rows.
func (r *Overview) degraded() []string {
	reasons := []string{}
	leaders := 0
	for _, n := range r.Nodes {
		switch {
		case n.State != virt.StateRunning:
			reasons = append(reasons, fmt.Sprintf("%s: domain %s", n.Node, cmp.Or(string(n.State), "unknown")))
		case !n.Healthy:
			reasons = append(reasons, fmt.Sprintf("%s: etcd member not healthy%s", n.Node, suffix(n.Error)))
		}
		if n.Leader {
			leaders++
		}
	}
	if leaders == 0 {
		reasons = append(reasons, "no member reports being the leader")
	}
	return reasons
}

func suffix(err string) string {
	if err == "" {
		return ""
	}
	return ": " + err
}

// Overview reads the domains from libvirt and each member's view from etcd
// over mTLS. Unreachable members are reported in their row, not as an error.
func (l *Lab) Overview(ctx context.Context) (*Overview, error) {
	r, err := l.overview(ctx)
	if r != nil {
		r.Degraded = r.degraded()
	}
	return r, err
}

func (l *Lab) overview(ctx context.Context) (*Overview, error) {
	st := l.State
	p, err := l.Libvirt(ctx)
	if err != nil {
		return nil, err
	}
	r := &Overview{Lab: st.Name, Phase: st.Phase, Accel: st.Accel, Etcd: st.Etcd.Version, Boot: st.Boot}
	for _, n := range st.Plan.Nodes {
		state, err := p.DomainState(ctx, n.Domain)
		ns := NodeOverview{Node: n.Name, Domain: n.Domain, State: state, Address: n.IP.String(), DataPool: n.DataPool}
		if err != nil {
			ns.Error = err.Error()
		}
		r.Nodes = append(r.Nodes, ns)
	}
	cfg, err := l.EtcdConfig()
	if err != nil {
		return r, err
	}
	c, err := etcd.New(ctx, cfg)
	if err != nil {
		// No member answers: the domains' states still tell a lot.
		for i := range r.Nodes {
			if r.Nodes[i].Error == "" {
				r.Nodes[i].Error = "etcd unreachable: " + err.Error()
			}
		}
		return r, nil
	}
	defer c.Close()
	statuses, _ := c.EndpointStatus(ctx)
	health, _ := c.Health(ctx)
	for i := range r.Nodes {
		if i < len(statuses) {
			s := statuses[i]
			if s.Err != nil {
				r.Nodes[i].Error = s.Err.Error()
				continue
			}
			r.Nodes[i].Member, r.Nodes[i].Leader, r.Nodes[i].Term = s.ID, s.IsLeader(), s.RaftTerm
		}
		if i < len(health) {
			r.Nodes[i].Healthy = health[i].Healthy
		}
	}
	return r, nil
}
