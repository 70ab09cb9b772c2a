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
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/tunnel"
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

// schema is the version of state.json's layout. 2: resources carry the
// UUID that proves ownership, whether lab made them, and the pool
// directories libvirt built for the lab.
const schema = 2

// Resource is one libvirt object of the lab. It is recorded before the call
// that makes it, with the UUID the object is then defined with (pools: their
// marker UUID, virt.PoolUUID; volumes have none), so whatever interrupts
// create, the state tells a resumed create and destroy which object of that
// name is the lab's own. Made is set once the call returned.
type Resource struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Pool holds a volume.
	Pool string `json:"pool,omitempty"`
	UUID string `json:"uuid,omitempty"`
	// Made: the lab created (or, resuming, recognised by UUID) the object;
	// false while it is only an intent.
	Made bool `json:"made,omitempty"`
	// Dir is a pool's directory when libvirt built it for the lab (it did
	// not exist before): destroy removes it with the pool, and no other.
	Dir string `json:"dir,omitempty"`
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
	// Boot is what create saw of the guests' boot; nil until create's
	// waits have finished.
	Boot *BootTimeline `json:"boot,omitempty"`
}

// BootTimeline is when create saw each step of the lab's boot, as
// durations from the moment its domains had started (the last step of
// create before its waits), so `lab status -v` can show where the time
// went.
type BootTimeline struct {
	Started time.Time  `json:"started"`
	Nodes   []NodeBoot `json:"nodes"`
	// Quorum is when every member was healthy and one led.
	Quorum time.Duration `json:"quorum"`
}

// NodeBoot is one node's steps: its readiness line on the console
// (cloud-init ran the seed; 0 when the console is not logged here), SSH
// with the pinned host key, and cloud-init's report that the seed's
// stages finished.
type NodeBoot struct {
	Node      string        `json:"node"`
	Ready     time.Duration `json:"ready,omitempty"`
	SSH       time.Duration `json:"ssh"`
	CloudInit time.Duration `json:"cloudInit"`
}

// Remote tells whether the lab runs on another machine's libvirt, reached
// over SSH.
func (s *State) Remote() bool { return tunnel.IsRemote(s.Connect) }

// Find returns the recorded resource of that kind, name and pool, or nil.
func (s *State) Find(kind, name, pool string) *Resource {
	for i := range s.Resources {
		if r := &s.Resources[i]; r.Kind == kind && r.Name == name && r.Pool == pool {
			return r
		}
	}
	return nil
}

// Store is the directory of one lab: <state-dir>/<lab>, mode 0700. It holds
// state.json, the PKI, the rendered seeds and the console logs, and the
// marker file that says lab made the directory.
type Store struct {
	Dir string
}

// NewStore returns the store of lab name under stateDir. It refuses a name
// that breaks the lab-name rule (spec.CheckName), and whatever it is
// passed, the store it returns is a direct child of stateDir: a name never
// leads out of the state directory.
func NewStore(stateDir, name string) (Store, error) {
	if err := spec.CheckName(name); err != nil {
		return Store{}, fmt.Errorf("opening the state of lab %q: %w", name, err)
	}
	if stateDir == "" {
		return Store{}, fmt.Errorf("opening the state of lab %q: no state directory: pass --state-dir DIR", name)
	}
	root := filepath.Clean(stateDir)
	dir := filepath.Join(root, name)
	if filepath.Dir(dir) != root || filepath.Base(dir) != name {
		return Store{}, fmt.Errorf("opening the state of lab %q: %q is not a directory directly inside %q: use a plain lab name", name, dir, root)
	}
	return Store{Dir: dir}, nil
}

// markerFile marks a directory as a lab store: written first, before any
// key or state, so that destroy never removes a directory lab did not make.
const markerFile = "lab-store"

// storeEntries are the names lab writes in a store; Remove deletes these
// and nothing else.
var storeEntries = []string{"state.json", "pki", "seed", "console", lockFile, markerFile}

// Init makes the store directory (0700) and its marker. Every command that
// writes into a store calls it first.
func (s Store) Init() error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("creating lab state directory: %w", err)
	}
	fi, err := os.Lstat(s.Dir)
	if err != nil {
		return fmt.Errorf("creating lab state directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("creating lab state directory: %s is not a directory (a symbolic link?): remove it", s.Dir)
	}
	if err := os.Chmod(s.Dir, 0o700); err != nil {
		return fmt.Errorf("securing lab state directory: %w", err)
	}
	if s.Owned() {
		return nil
	}
	if empty, err := isEmptyDir(s.Dir); err != nil {
		return fmt.Errorf("creating lab state directory: %w", err)
	} else if !empty {
		return fmt.Errorf("lab state directory %s exists, is not empty and has no %s marker: lab did not make it; move it away or choose another --state-dir or --lab", s.Dir, markerFile)
	}
	if err := atomicfile.Write(filepath.Join(s.Dir, markerFile), []byte("lab state directory of lab "+s.name()+"\n"), 0o600); err != nil {
		return fmt.Errorf("marking lab state directory: %w", err)
	}
	return nil
}

// Owned reports whether the directory is a store lab made: it holds the
// marker, or state.json (stores older than the marker).
func (s Store) Owned() bool {
	for _, f := range []string{markerFile, "state.json"} {
		if fi, err := os.Lstat(filepath.Join(s.Dir, f)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

func isEmptyDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	return len(entries) == 0, err
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
	// Schema 1 is schema 2 without UUIDs: destroy can read it (what it
	// removes, it finds by marker); a create resuming it is refused.
	if st.Schema != schema && st.Schema != 1 {
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
	if err := s.Init(); err != nil {
		return err
	}
	if err := atomicfile.Write(s.StateFile(), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving lab state: %w", err)
	}
	return nil
}

// name is the lab's name: the store directory's last element.
func (s Store) name() string { return filepath.Base(s.Dir) }

// Remove deletes what lab wrote in the lab's directory (state, marker,
// PKI, seeds and console logs), then the directory when that leaves it
// empty. A directory without lab's marker is left alone entirely, and
// files lab did not write stay; left names them.
func (s Store) Remove() (left []string, err error) {
	if _, err := os.Lstat(s.Dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if !s.Owned() {
		return nil, fmt.Errorf("refusing to remove %s: it has no %s marker, so lab did not make it", s.Dir, markerFile)
	}
	for _, e := range storeEntries {
		if e == markerFile {
			continue // last: a directory half removed is still known as lab's
		}
		// RemoveAll removes a symbolic link itself, never what it points at.
		if err := os.RemoveAll(filepath.Join(s.Dir, e)); err != nil {
			return nil, fmt.Errorf("removing lab state %s: %w", s.Dir, err)
		}
	}
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("removing lab state %s: %w", s.Dir, err)
	}
	for _, e := range entries {
		if e.Name() != markerFile {
			left = append(left, e.Name())
		}
	}
	if len(left) > 0 {
		return left, nil
	}
	if err := os.Remove(filepath.Join(s.Dir, markerFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("removing lab state %s: %w", s.Dir, err)
	}
	if err := os.Remove(s.Dir); err != nil {
		return nil, fmt.Errorf("removing lab state %s: %w", s.Dir, err)
	}
	return nil, nil
}
