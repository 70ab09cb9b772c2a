//go:build integration

package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

// TestRealHost runs the doctor against this host and its libvirtd
// (qemu:///system must be running: scripts/host-setup.sh) and checks the
// probes that must work on any host set up by the script.
func TestRealHost(t *testing.T) {
	image := func(context.Context) (string, error) { return "fake image (integration test)", nil }
	etcd := func(context.Context) (string, error) { return "fake etcd (integration test)", nil }
	req := Requirements{
		ConnectURI: "qemu:///system", Accel: "auto",
		Nodes: 3, NodeMemory: 1 << 30, NodeOverhead: DefaultNodeOverhead, HostOverhead: DefaultHostOverhead,
		Disks: []DiskNeed{
			{Label: "image cache", Path: t.TempDir() + "/not/yet/created", Need: 1 << 30},
			{Label: "ssd pool", Path: "/var/lib/libvirt/images/lab-doctor-test-ssd", Need: 6 << 30},
		},
	}
	r := Run(t.Context(), DefaultLookups(image, etcd), req)
	var text bytes.Buffer
	if err := r.Render(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", text.String())
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("json:\n%s", js)

	byName := map[string]Check{}
	for _, c := range r.Checks {
		byName[c.Name] = c
	}
	for _, name := range []string{"libvirt socket", "qemu", "memory", "image tools"} {
		if c := byName[name]; c.Verdict != OK {
			t.Errorf("check %q = %s %q, want ok", name, c.Verdict, c.Detail)
		}
	}
	if c, found := byName["disk space"]; !found || c.Verdict != OK {
		t.Errorf("disk space = %+v, want one ok line (the temp dir and the pool share a filesystem here)", c)
	}
}
