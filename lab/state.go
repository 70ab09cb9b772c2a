package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab/atomicfile"
	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/pki"
	"github.com/kthw-lab/lab/lab/spec"
)

// Phase is where a lab is in its life.
type Phase string

// Phases of a lab.
const (
	PhaseCreating Phase = "creating" // create started and has not finished
	PhaseReady    Phase = "ready"    // create finished: etcd was healthy
)

// Kinds of recorded resources, in the order create makes them.
const (
	KindNetwork = "network"
	KindPool    = "pool"
	KindVolume  = "volume"
	KindDomain  = "domain"
)

// schema is the version of state.json's layout.
const schema = 1

// Resource is one libvirt object the lab created (or was about to create:
// it is recorded before the call that makes it).
type Resource struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Pool holds a volume.
	Pool string `json:"pool,omitempty"`
}

// State is the result of create: what the lab is and what it owns. It is
// what status and destroy read.
type State struct {
	Schema    int              `json:"schema"`
	Name      string           `json:"name"`
	Phase     Phase            `json:"phase"`
	Connect   string           `json:"connect"`
	Plan      spec.Plan        `json:"plan"`
	Accel     string           `json:"accel"`
	Image     images.Image     `json:"image"`
	Etcd      etcdbin.Binaries `json:"etcd"`
	Resources []Resource       `json:"resources"`
	// Uploads maps the volumes filled from this machine's files (the base
	// image, kernel and initrd) to the file they hold ("PATH SIZE MTIME"),
	// once the upload finished, so a resumed create does not repeat it.
	Uploads map[string]string `json:"uploads,omitempty"`
	Created time.Time         `json:"created"`
	Updated time.Time         `json:"updated"`
}

// Has reports whether r is already recorded.
func (s *State) Has(r Resource) bool {
	for _, have := range s.Resources {
		if have == r {
			return true
		}
	}
	return false
}

// Store is the directory of one lab: <state-dir>/<lab>, mode 0700. It holds
// state.json, the PKI, the rendered seeds and the console logs.
type Store struct {
	Dir string
}

// NewStore returns the store of lab name under stateDir.
func NewStore(stateDir, name string) Store {
	return Store{Dir: filepath.Join(stateDir, name)}
}

// StateFile is the path of state.json.
func (s Store) StateFile() string { return filepath.Join(s.Dir, "state.json") }

// PKIDir holds the CA, the kubernetes key pair and the SSH keys.
func (s Store) PKIDir() string { return filepath.Join(s.Dir, "pki") }

// SeedDir holds what node receives: the seed files and its ISO.
func (s Store) SeedDir(node string) string { return filepath.Join(s.Dir, "seed", node) }

// SeedISO is node's seed ISO as uploaded to its volume.
func (s Store) SeedISO(node string) string { return filepath.Join(s.SeedDir(node), "seed.iso") }

// ConsoleLog is where the serial console of node is written.
func (s Store) ConsoleLog(node string) string {
	return filepath.Join(s.Dir, "console", node+".log")
}

// ErrNoLab means the lab has no state: it was never created or was destroyed.
var ErrNoLab = errors.New("no such lab")

// Load reads the state. A lab that does not exist gives an error matching
// ErrNoLab and fs.ErrNotExist.
func (s Store) Load() (*State, error) {
	b, err := os.ReadFile(s.StateFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w %q: run 'lab create' (%w)", ErrNoLab, s.name(), fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("reading lab state: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("reading lab state %s: %w", s.StateFile(), err)
	}
	if st.Schema != schema {
		return nil, fmt.Errorf("lab state %s has schema %d, this lab understands %d", s.StateFile(), st.Schema, schema)
	}
	return &st, nil
}

// Save writes the state atomically (a crash leaves the old or the new
// file, never half of one), mode 0600 in a 0700 directory.
func (s Store) Save(st *State) error {
	st.Schema = schema
	st.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding lab state: %w", err)
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("creating lab state directory: %w", err)
	}
	if err := os.Chmod(s.Dir, 0o700); err != nil {
		return fmt.Errorf("securing lab state directory: %w", err)
	}
	if err := atomicfile.Write(s.StateFile(), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving lab state: %w", err)
	}
	return nil
}

// name is the lab's name: the store directory's last element.
func (s Store) name() string { return filepath.Base(s.Dir) }

// Remove deletes the lab's directory: state, PKI, seeds and console logs.
func (s Store) Remove() error {
	if err := os.RemoveAll(s.Dir); err != nil {
		return fmt.Errorf("removing lab state %s: %w", s.Dir, err)
	}
	return nil
}

// EtcdConfig is how the host reaches the lab's etcd: every member's client
// URL, with the lab's CA and client certificate (mutual TLS).
func (s Store) EtcdConfig(st *State) (etcd.ClientConfig, error) {
	keys, err := pki.Load(s.PKIDir())
	if err != nil {
		return etcd.ClientConfig{}, err
	}
	tlsCfg, err := keys.ClientTLS()
	if err != nil {
		return etcd.ClientConfig{}, err
	}
	return etcd.ClientConfig{Endpoints: st.Plan.Etcd.Endpoints, TLS: tlsCfg}, nil
}
