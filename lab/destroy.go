package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/kthw-lab/lab/lab/progress"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/virt"
)

// Destroy removes every libvirt object the lab's state lists, newest first,
// then the state itself. It succeeds when the lab is already gone, skips
// objects that no longer exist, and never touches an object the lab does
// not own: the provider refuses those, and the error names them. The state
// is kept when anything could not be removed, so destroy can be repeated.
func Destroy(ctx context.Context, store Store, p *virt.Provider, status *progress.Status) error {
	st, err := store.Load()
	if errors.Is(err, fs.ErrNotExist) {
		status.Printf("lab %q does not exist: nothing to destroy", store.name())
		return store.Remove() // keys or seeds of a create that never saved state
	}
	if err != nil {
		return err
	}
	var errs []error
	for i := len(st.Resources) - 1; i >= 0; i-- {
		r := st.Resources[i]
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("destroy of lab %q interrupted: %w; run 'lab destroy' again", st.Name, err)
		}
		end := status.Start("removing %s %s", r.Kind, r.Name)
		err := remove(ctx, p, st, r)
		end(err)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("destroying lab %q: %w", st.Name, err)
	}
	return store.Remove()
}

// ownsPoolDir reports whether the lab made pool's directory: one at the
// default path. A directory the user named (--ssd-path) is theirs and stays.
func ownsPoolDir(st *State, pool string) bool {
	for _, p := range st.Plan.Pools {
		if p.Name == pool && p.Path == spec.PoolPath(st.Name, p.Kind) {
			return true
		}
	}
	return false
}

func remove(ctx context.Context, p *virt.Provider, st *State, r Resource) error {
	lab := st.Name
	switch r.Kind {
	case KindDomain:
		return p.DeleteDomain(ctx, r.Name, lab)
	case KindVolume:
		return p.DeleteVolume(ctx, r.Pool, r.Name, lab)
	case KindPool:
		if ownsPoolDir(st, r.Name) {
			// The daemon removes the directory it made: it may be root's
			// where lab is not, or on another host.
			return p.DeletePoolAndDir(ctx, r.Name, lab)
		}
		return p.DeletePool(ctx, r.Name, lab)
	case KindNetwork:
		return p.DeleteNetwork(ctx, r.Name, lab)
	}
	return fmt.Errorf("unknown resource kind %q in the lab's state", r.Kind)
}
