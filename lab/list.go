package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/virt"
)

// LabSummary is one lab as List finds it: from the ownership markers on the
// libvirt host and from the state directory.
type LabSummary struct {
	Name string `json:"name"`
	// State: the state directory holds the lab's state.json.
	State bool  `json:"state"`
	Phase Phase `json:"phase,omitempty"`
	// Domains, Networks, Pools and Volumes carry the lab's marker.
	Domains  []string `json:"domains"`
	Networks []string `json:"networks"`
	Pools    []string `json:"pools"`
	Volumes  []string `json:"volumes"`
	// Orphan: objects carry the lab's marker but there is no state; 'lab
	// destroy --lab NAME' removes them from the markers alone.
	Orphan bool `json:"orphan"`
}

// List returns every lab on the host (objects carrying a lab's marker) and
// in stateDir (directories with lab's marker), by name.
func List(ctx context.Context, stateDir string, p *virt.Provider) ([]LabSummary, error) {
	objs, err := p.LabObjects(ctx, "", false)
	if err != nil {
		return nil, fmt.Errorf("listing labs: %w", err)
	}
	labs := map[string]*LabSummary{}
	get := func(name string) *LabSummary {
		if labs[name] == nil {
			labs[name] = &LabSummary{Name: name, Domains: []string{}, Networks: []string{}, Pools: []string{}, Volumes: []string{}}
		}
		return labs[name]
	}
	for _, o := range objs {
		l := get(o.Lab)
		switch o.Kind {
		case virt.KindDomain:
			l.Domains = append(l.Domains, o.Name)
		case virt.KindNetwork:
			l.Networks = append(l.Networks, o.Name)
		case virt.KindPool:
			l.Pools = append(l.Pools, o.Name)
		case virt.KindVolume:
			l.Volumes = append(l.Volumes, o.Pool+"/"+o.Name)
		}
	}
	entries, err := os.ReadDir(stateDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("listing labs in %s: %w", stateDir, err)
	}
	for _, e := range entries {
		if !e.IsDir() || spec.CheckName(e.Name()) != nil {
			continue
		}
		store, err := NewStore(stateDir, e.Name())
		if err != nil || !store.Owned() {
			continue
		}
		l := get(e.Name())
		if st, err := store.Load(); err == nil {
			l.State, l.Phase = true, st.Phase
		}
	}
	out := make([]LabSummary, 0, len(labs))
	for _, l := range labs {
		for _, names := range [][]string{l.Domains, l.Networks, l.Pools, l.Volumes} {
			slices.Sort(names)
		}
		l.Orphan = !l.State && len(l.Domains)+len(l.Networks)+len(l.Pools)+len(l.Volumes) > 0
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b LabSummary) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
