package lab

import (
	"slices"
	"testing"

	"github.com/kthw-lab/lab/lab/virt"
)

func TestDegraded(t *testing.T) {
	healthy := func(name string, leader bool) NodeStatus {
		return NodeStatus{Node: name, State: virt.StateRunning, Healthy: true, Leader: leader}
	}
	for _, tc := range []struct {
		name  string
		nodes []NodeStatus
		want  []string
	}{
		{"healthy with a leader", []NodeStatus{healthy("a", true), healthy("b", false), healthy("c", false)}, []string{}},
		{"no leader", []NodeStatus{healthy("a", false), healthy("b", false)}, []string{"no member reports being the leader"}},
		{"a member down", []NodeStatus{healthy("a", true), {Node: "b", State: virt.StateRunning, Error: "connection refused"}},
			[]string{"b: etcd member not healthy: connection refused"}},
		{"a domain shut off", []NodeStatus{healthy("a", true), {Node: "b", State: virt.StateShutOff}},
			[]string{"b: domain shut off"}},
	} {
		r := Report{Nodes: tc.nodes}
		if got := r.degraded(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: degraded = %q, want %q", tc.name, got, tc.want)
		}
	}
}
