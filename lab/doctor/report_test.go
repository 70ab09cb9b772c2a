package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/kthw-lab/lab/internal/golden"
)

func TestFailed(t *testing.T) {
	tests := []struct {
		name   string
		checks []Check
		failed bool
	}{
		{"empty", nil, false},
		{"all ok", []Check{ok("a", "", true), ok("b", "", false)}, false},
		{"warnings only", []Check{warn("a", "", "x", true), warn("b", "", "x", false)}, false},
		{"optional failure", []Check{ok("a", "", true), fail("b", "", "x", false)}, false},
		{"required failure", []Check{ok("a", "", true), fail("b", "", "x", true)}, true},
	}
	for _, tt := range tests {
		if got := (Checkup{Checks: tt.checks}).Failed(); got != tt.failed {
			t.Errorf("%s: Failed() = %v, want %v", tt.name, got, tt.failed)
		}
	}
}

func TestHealthyHostIsReady(t *testing.T) {
	r := Run(t.Context(), newFakeHost().probes(), story())
	if r.Failed() {
		t.Fatalf("healthy host failed: %+v", r.Checks)
	}
	for _, c := range r.Checks {
		if c.Verdict != OK && c.Name != "kvm guests" {
			t.Errorf("%s = %s %q on a healthy host", c.Name, c.Verdict, c.Detail)
		}
	}
}

// freshHost is a Debian host before the setup script: libvirt installed
// but not started, no /dev/kvm, no image, no etcd, debootstrap missing,
// little memory.
func freshHost() *fakeHost {
	h := newFakeHost()
	h.libvirt = func(context.Context, string, string) (LibvirtInfo, error) {
		return LibvirtInfo{}, fmt.Errorf("dial unix /var/run/libvirt/libvirt-sock: connect: %w", syscall.ECONNREFUSED)
	}
	delete(h.files, KVMDevice)
	delete(h.bins, "debootstrap")
	h.mem = 3 * gib
	h.image = func(context.Context) (string, error) {
		return "", errors.New(`no base image "debian-12" in /var/cache/lab`)
	}
	h.etcd = func(context.Context) (string, error) { return "", errors.New("no etcd v3.6.16 in /var/cache/lab") }
	return h
}

func TestRenderGolden(t *testing.T) {
	tests := []struct {
		name string
		host *fakeHost
	}{
		{"healthy", newFakeHost()},
		{"fresh", freshHost()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(t.Context(), tt.host.probes(), story())
			var text bytes.Buffer
			if err := r.Render(&text); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/"+tt.name+".golden.txt", text.Bytes())
			js, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/"+tt.name+".golden.json", append(js, '\n'))
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r := Run(t.Context(), freshHost().probes(), story())
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Checkup
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Checks) != len(r.Checks) || !back.Failed() {
		t.Fatalf("round trip lost checks: %s", js)
	}
	for i := range r.Checks {
		if back.Checks[i] != r.Checks[i] {
			t.Errorf("check %d: %+v after the round trip, want %+v", i, back.Checks[i], r.Checks[i])
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderWriteError(t *testing.T) {
	err := Checkup{Checks: []Check{ok("a", "b", true)}}.Render(failingWriter{})
	if err == nil || err.Error() != "writing the doctor report: disk full" {
		t.Fatalf("Render = %v", err)
	}
}
