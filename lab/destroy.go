package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/kthw-lab/lab/lab/progress"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/tunnel"
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
		err := remove(ctx, p, st.Name, r)
		if err == nil && r.Kind == KindPool {
			err = removePoolDir(st, r.Name)
		}
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

// removePoolDir removes the directory of a pool the lab made at its default
// path, when it is empty. A directory the user named (--ssd-path) is theirs
// and stays, and so does one on a remote host, which is not this machine's
// to remove.
func removePoolDir(st *State, pool string) error {
	if tunnel.IsRemote(st.Connect) {
		return nil
	}
	for _, p := range st.Plan.Pools {
		if p.Name != pool || p.Path != spec.PoolPath(st.Name, p.Kind) {
			continue
		}
		if err := os.Remove(p.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the directory of pool %s: %w", pool, err)
		}
	}
	return nil
}

func remove(ctx context.Context, p *virt.Provider, lab string, r Resource) error {
	switch r.Kind {
	case KindDomain:
		return p.DeleteDomain(ctx, r.Name, lab)
	case KindVolume:
		return p.DeleteVolume(ctx, r.Pool, r.Name, lab)
	case KindPool:
		return p.DeletePool(ctx, r.Name, lab)
	case KindNetwork:
		return p.DeleteNetwork(ctx, r.Name, lab)
	}
	return fmt.Errorf("unknown resource kind %q in the lab's state", r.Kind)
}
