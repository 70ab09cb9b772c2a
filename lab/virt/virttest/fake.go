package virttest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// Fake is an in-memory libvirt daemon. The zero value is not usable; call New.
// It is safe for concurrent use.
type Fake struct {
	mu       sync.Mutex
	networks map[string]*network
	pools    map[string]*pool
	files    map[string]*file  // by path: volumes are files and outlive their pool's definition
	dirs     map[string]string // directories that exist, with their mode
	domains  map[string]*domain

	host    Host
	console map[string][]byte // by domain type: what its guests print

	calls   map[string]int
	changes int
	failOn  map[string]map[int]error
	failAt  map[int]error
}

type network struct {
	def        libvirtxml.Network
	active     bool
	persistent bool
}

type pool struct {
	def    libvirtxml.StoragePool
	active bool
}

type file struct {
	vol  libvirtxml.StorageVolume
	data []byte
	host bool // added with AddFile: left out of Objects, which lists what the code under test made
}

type domain struct {
	def        libvirtxml.Domain
	state      libvirt.DomainState
	persistent bool
	iotune     map[string]map[string]uint64 // disk → libvirt field → value
	// changed is closed, and replaced, at every change of state: how a
	// console stream learns that its guest runs, or stopped.
	changed chan struct{}
}

func newDomain(def libvirtxml.Domain, persistent bool) *domain {
	return &domain{def: def, state: libvirt.DomainShutoff, persistent: persistent, changed: make(chan struct{})}
}

// set changes the domain's state and wakes whoever waits on it. Callers
// hold f.mu.
func (d *domain) set(state libvirt.DomainState) {
	d.state = state
	close(d.changed)
	d.changed = make(chan struct{})
}

// New returns an empty daemon: no networks, pools, volumes or domains, on
// DefaultHost, whose guests print nothing (see SetConsole).
func New() *Fake {
	return &Fake{
		networks: map[string]*network{},
		pools:    map[string]*pool{},
		files:    map[string]*file{},
		dirs:     map[string]string{},
		domains:  map[string]*domain{},
		host:     DefaultHost(),
		console:  map[string][]byte{},
		calls:    map[string]int{},
		failOn:   map[string]map[int]error{},
		failAt:   map[int]error{},
	}
}

// ErrInjected is the error FailOn and FailAt return when given nil.
var ErrInjected = libvirt.Error{Code: uint32(libvirt.ErrInternalError), Message: "internal error: injected failure"}

// FailOn makes the nth call (from 1) of method, e.g. "NetworkCreate", fail
// with err (ErrInjected when nil) before it has any effect.
func (f *Fake) FailOn(method string, nth int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		err = ErrInjected
	}
	if f.failOn[method] == nil {
		f.failOn[method] = map[int]error{}
	}
	f.failOn[method][nth] = err
}

// FailAt makes the nth state-changing call (from 1, counted across all
// methods: define, create, build, destroy, undefine, delete, upload) fail
// with err (ErrInjected when nil) before it has any effect: an operation
// interrupted after n-1 steps.
func (f *Fake) FailAt(n int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		err = ErrInjected
	}
	f.failAt[n] = err
}

// Calls returns how often method has been called.
func (f *Fake) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// Changes returns how many state-changing calls have been made, failed
// ones included: the bound for a FailAt loop.
func (f *Fake) Changes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changes
}

// enter counts a call and returns its injected failure. Callers hold f.mu.
func (f *Fake) enter(method string, change bool) error {
	f.calls[method]++
	if err := f.failOn[method][f.calls[method]]; err != nil {
		return err
	}
	if change {
		f.changes++
		if err := f.failAt[f.changes]; err != nil {
			return err
		}
	}
	return nil
}

// Objects lists what exists, sorted: "domain:NAME", "file:PATH" (volumes,
// also those whose pool is gone; not files added with AddFile),
// "network:NAME", "pool:NAME".
func (f *Fake) Objects() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.networks {
		out = append(out, "network:"+n)
	}
	for n := range f.pools {
		out = append(out, "pool:"+n)
	}
	for p, fl := range f.files {
		if !fl.host {
			out = append(out, "file:"+p)
		}
	}
	for n := range f.domains {
		out = append(out, "domain:"+n)
	}
	slices.Sort(out)
	return out
}

// Network returns a network's definition and whether it is active.
func (f *Fake) Network(name string) (def libvirtxml.Network, active, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.networks[name]
	if !ok {
		return def, false, false
	}
	return n.def, n.active, true
}

// Pool returns a storage pool's definition and whether it is active.
func (f *Fake) Pool(name string) (def libvirtxml.StoragePool, active, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pools[name]
	if !ok {
		return def, false, false
	}
	return p.def, p.active, true
}

// Volume returns the volume (or file) at path and its uploaded content.
func (f *Fake) Volume(path string) (def libvirtxml.StorageVolume, data []byte, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl, ok := f.files[path]
	if !ok {
		return def, nil, false
	}
	return fl.vol, slices.Clone(fl.data), true
}

// Domain returns a domain's definition and state.
func (f *Fake) Domain(name string) (def libvirtxml.Domain, state libvirt.DomainState, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.domains[name]
	if !ok {
		return def, 0, false
	}
	return d.def, d.state, true
}

// Dir reports whether a directory exists and its mode ("0755" for one
// made by AddFile, AddPool or a pool build without permissions in its XML).
func (f *Fake) Dir(path string) (mode string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mode, ok = f.dirs[filepath.Clean(path)]
	return mode, ok
}

// AddFile puts a host file outside any libvirt object, such as a base
// image, a kernel or an initrd that volumes and domains refer to. A file in
// a pool's directory shows up as one of its volumes.
func (f *Fake) AddFile(path string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path = filepath.Clean(path)
	f.mkdir(filepath.Dir(path), "0755")
	f.files[path] = &file{vol: fileVolume(path, "raw", uint64(len(data))), data: slices.Clone(data), host: true}
}

// mkdir makes a directory unless it exists. Callers hold f.mu.
func (f *Fake) mkdir(path, mode string) {
	if _, ok := f.dirs[path]; !ok {
		f.dirs[path] = mode
	}
}

// uuidFor derives a stable UUID from a kind and a name, so XML and golden
// output stay reproducible.
func uuidFor(kind, name string) (libvirt.UUID, string) {
	sum := sha256.Sum256([]byte(kind + "/" + name))
	var u libvirt.UUID
	copy(u[:], sum[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	s := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
	return u, s
}

func parseUUID(s string) (libvirt.UUID, bool) {
	var u libvirt.UUID
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != len(u) {
		return u, false
	}
	copy(u[:], b)
	return u, true
}

// lverr builds the error the daemon would send.
func lverr(code libvirt.ErrorNumber, format string, args ...any) error {
	return libvirt.Error{Code: uint32(code), Message: fmt.Sprintf(format, args...)}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
