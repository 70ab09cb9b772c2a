package main

import (
	"github.com/kthw-lab/lab/lab"
)

// store opens the store of --lab under --state-dir; a name that breaks the
// lab-name rule is refused here, before anything is read or written.
func (g *globals) store() (lab.Store, error) {
	return lab.NewStore(g.StateDir, g.Lab)
}
