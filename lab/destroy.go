package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/progress"
)

// Destroy removes every libvirt object that carries the lab's marker
// (domains and networks with its metadata, pools with its UUID, volumes
// with its name in those pools), then the state. The state's records say
// which pool directories libvirt built for the lab; objects carrying the
// marker that the state does not list are orphans, named before they are
// removed. With no state at all (lost, or another --state-dir), the
// markers alone are enough. Destroy succeeds when the lab is already gone,
// never touches an object without the lab's marker, and keeps the state
// when anything could not be removed, so it can be repeated.
func Destroy(ctx context.Context, store Store, p *virt.Provider, status *progress.Printer) error {
	lab := store.name()
	if _, err := os.Lstat(store.Dir); err == nil && store.Owned() {
		unlock, err := store.Lock()
		if err != nil {
			return err
		}
		defer unlock()
	}
	st, err := store.Load()
	noState := errors.Is(err, fs.ErrNotExist)
	if err != nil && !noState {
		return err
	}
	objs, err := p.LabObjects(ctx, lab, true)
	if err != nil {
		return fmt.Errorf("destroying lab %q: %w", lab, err)
	}
	if noState {
		st = &State{Name: lab}
		if len(objs) == 0 {
			status.Printf("lab %q does not exist: nothing to destroy", lab)
			return removeStore(store, status) // keys or seeds of a create that never saved state
		}
	}
	var orphans, kept []string
	all := slices.Clone(objs)
	objs = slices.DeleteFunc(objs, func(o virt.LabObject) bool {
		if st.Find(o.Kind, o.Name, o.Pool) != nil {
			return false
		}
		if o.Kind == virt.KindVolume && !inOwnDir(o, all) {
			kept = append(kept, o.Pool+"/"+o.Name)
			return true
		}
		orphans = append(orphans, o.Kind+" "+o.Name)
		return false
	})
	if len(kept) > 0 {
		status.Printf("lab %q: left %s: the state does not record them and their pool is at a directory the user named, so they may be the user's",
			lab, strings.Join(kept, ", "))
	}
	if err := noteUnmarked(ctx, p, st, all, status); err != nil {
		return fmt.Errorf("destroying lab %q: %w", lab, err)
	}
	if len(orphans) > 0 {
		where := "its state does not list them"
		if noState {
			where = "it has no state in " + store.Dir
		}
		status.Printf("lab %q: %d objects carry its marker but %s (orphans): %s; removing them too",
			lab, len(orphans), where, strings.Join(orphans, ", "))
	}
	var errs []error
	for _, kind := range []string{virt.KindDomain, virt.KindVolume, virt.KindPool, virt.KindNetwork} {
		for _, o := range objs {
			if o.Kind != kind {
				continue
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("destroy of lab %q interrupted: %w; run 'lab destroy' again", lab, err)
			}
			end := status.Start("removing %s %s", o.Kind, o.Name)
			err := remove(ctx, p, st, o)
			end(err)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("destroying lab %q: %w", lab, err)
	}
	return removeStore(store, status)
}

// noteUnmarked says which pools and networks the state records that exist
// without the lab's marker: an older lab made pools without the UUID
// marker, or someone else's object holds the name. They are left alone.
func noteUnmarked(ctx context.Context, p *virt.Provider, st *State, objs []virt.LabObject, status *progress.Printer) error {
	marked := func(kind, name string) bool {
		return slices.ContainsFunc(objs, func(o virt.LabObject) bool { return o.Kind == kind && o.Name == name })
	}
	pools, err := p.Pools(ctx)
	if err != nil {
		return err
	}
	for _, pl := range pools {
		if st.Find(virt.KindPool, pl.Name, "") != nil && !marked(virt.KindPool, pl.Name) {
			status.Printf("left storage pool %s on %s: the state names it, but its UUID is not lab's marker (someone else's, or made by an older lab); "+
				"if it is the lab's, remove it with 'virsh pool-destroy %s; virsh pool-undefine %s'", pl.Name, pl.Path, pl.Name, pl.Name)
		}
	}
	nets, err := p.Networks(ctx)
	if err != nil {
		return err
	}
	for _, n := range nets {
		if st.Find(virt.KindNetwork, n.Name, "") != nil && !marked(virt.KindNetwork, n.Name) {
			status.Printf("left network %s: the state names it, but it does not carry lab's marker for lab %q", n.Name, st.Name)
		}
	}
	return nil
}

// removeStore removes what lab wrote in the store and says what it left.
func removeStore(store Store, status *progress.Printer) error {
	if _, err := os.Lstat(store.Dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if !store.Owned() {
		status.Printf("left %s alone: it has no lab marker, so lab did not make it", store.Dir)
		return nil
	}
	left, err := store.Remove()
	if err != nil {
		return err
	}
	if len(left) > 0 {
		status.Printf("left %s: it holds files lab did not write (%s)", store.Dir, strings.Join(left, ", "))
	}
	return nil
}

// inOwnDir reports whether volume o's pool is at the lab's own directory
// (spec.PoolPath), where every file with the lab's prefix is the lab's.
func inOwnDir(o virt.LabObject, objs []virt.LabObject) bool {
	for _, pl := range objs {
		if pl.Kind == virt.KindPool && pl.Name == o.Pool {
			return filepath.Clean(pl.Path) == spec.PoolPath(o.Lab, strings.TrimPrefix(pl.Name, o.Lab+"-"))
		}
	}
	return false
}

// poolDir returns the directory to remove with pool o, or "": the one the
// state records as built by libvirt for the lab; for an orphan pool, the
// lab's default directory (spec.PoolPath) when it is the pool's target and
// the pool holds nothing but the lab's volumes, so the directory can be
// emptied. The daemon removes only an empty directory.
func poolDir(st *State, o virt.LabObject) string {
	if r := st.Find(virt.KindPool, o.Name, ""); r != nil {
		if r.Dir != "" && filepath.Clean(r.Dir) == filepath.Clean(o.Path) {
			return r.Dir
		}
		return ""
	}
	kind := strings.TrimPrefix(o.Name, o.Lab+"-")
	if def := spec.PoolPath(o.Lab, kind); filepath.Clean(o.Path) == def {
		return def
	}
	return ""
}

func remove(ctx context.Context, p *virt.Provider, st *State, o virt.LabObject) error {
	switch o.Kind {
	case virt.KindDomain:
		return p.DeleteDomain(ctx, o.Name, o.Lab)
	case virt.KindVolume:
		return p.DeleteVolume(ctx, o.Pool, o.Name, o.Lab)
	case virt.KindPool:
		if dir := poolDir(st, o); dir != "" {
			// The daemon removes the directory it made: it may be root's
			// where lab is not, or on another host.
			err := p.DeletePoolAndDir(ctx, o.Name, o.Lab, dir)
			if err == nil || !strings.Contains(err.Error(), "not empty") {
				return err
			}
			// Files lab did not write stay, and so does their directory.
		}
		return p.DeletePool(ctx, o.Name, o.Lab)
	case virt.KindNetwork:
		return p.DeleteNetwork(ctx, o.Name, o.Lab)
	}
	return fmt.Errorf("unknown object kind %q", o.Kind)
}
