package lab

import (
	"os"

	"github.com/kthw-lab/lab/lab/spec"
)

// StoredNames are the labs with a store of lab's own under stateDir, for
// shell completion: no libvirt, no error (an unreadable directory has none).
func StoredNames(stateDir string) []string {
	entries, _ := os.ReadDir(stateDir)
	var names []string
	for _, e := range entries {
		if !e.IsDir() || spec.CheckName(e.Name()) != nil {
			continue
		}
		if store, err := NewStore(stateDir, e.Name()); err == nil && store.Owned() {
			names = append(names, e.Name())
		}
	}
	return names
}
