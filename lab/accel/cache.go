package accel

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kthw-lab/lab/lab/atomicfile"
)

// Cache keeps self-test results, one file per host and image, so --accel
// auto tests KVM once and not on every create. `lab doctor` always tests
// again and replaces the entry.
type Cache struct {
	Dir string // e.g. /var/cache/lab/accel
}

// Key names a self-test result: what decides whether KVM runs a guest is
// the host (its kernel, CPU, qemu and libvirt) and the image booted.
func Key(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:8])
}

func (c Cache) path(key string) string { return filepath.Join(c.Dir, key+".json") }

// Load returns the result stored under key; ok is false when there is none
// (or it cannot be read, which only means testing again).
func (c Cache) Load(key string) (Result, bool) {
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return Result{}, false
	}
	var r Result
	if json.Unmarshal(b, &r) != nil || r.Key != key || (r.Accel != KVM && r.Accel != TCG) {
		return Result{}, false
	}
	return r, true
}

// Save stores r under r.Key, atomically.
func (c Cache) Save(r Result) error {
	if r.Key == "" {
		return errors.New("saving a kvm self-test result: no key")
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("saving a kvm self-test result: %w", err)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("saving a kvm self-test result: %w", err)
	}
	if err := atomicfile.Write(c.path(r.Key), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("saving a kvm self-test result: %w", err)
	}
	return nil
}
