package lab

import (
	"slices"
	"testing"

	"github.com/kthw-lab/lab/lab/virt"
)

func TestDegraded(t *testing.T) {
	healthy := func(name string, leader bool) NodeOverview {
		return NodeOverview{Node: name, State: virt.StateRunning, Healthy: true, Leader: leader}
	}
	for _, tc := range []struct {
		name  string
		nodes []NodeOverview
		want  []string
	}{
		{"healthy with a leader", []NodeOverview{healthy("a", true), healthy("b", false), healthy("c", false)}, []string{}},
		{"no leader", []NodeOverview{healthy("a", false), healthy("b", false)}, []string{"no member reports being the leader"}},
		{"a member down", []NodeOverview{healthy("a", true), {Node: "b", State: virt.StateRunning, Error: "connection refused"}},
			[]string{"b: etcd member not healthy: connection refused"}},
		{"a domain shut off", []NodeOverview{healthy("a", true), {Node: "b", State: virt.StateShutOff}},
			[]string{"b: domain shut off"}},
	} {
		r := Overview{Nodes: tc.nodes}
		if got := r.degraded(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: degraded = %q, want %q", tc.name, got, tc.want)
		}
	}
}
