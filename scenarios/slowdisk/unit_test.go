package slowdisk

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kthw-lab/lab/cloudinit"
	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/guest"
)

// seededUnits renders the lab's seeds as create does (lab.Render) and
// returns, per node, the content of the file the seed's user-data writes
// at guest.UnitPath: the etcd unit a created node starts with.
func seededUnits(t *testing.T, c *cluster) map[string][]byte {
	t.Helper()
	store, err := lab.NewStore(t.TempDir(), "kthw")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := lab.EnsureKeys(store, &c.st.Plan)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "etcd")
	if err := os.WriteFile(bin, []byte("etcd"), 0o755); err != nil {
		t.Fatal(err)
	}
	seeds, err := lab.Render(lab.RenderInputs{Plan: &c.st.Plan, PKI: keys,
		Etcd: &etcdbin.Binaries{Etcd: bin, SHA256: map[string]string{etcdbin.EtcdFile: strings.Repeat("0", 64)}}})
	if err != nil {
		t.Fatal(err)
	}
	units := map[string][]byte{}
	for _, s := range seeds {
		var cfg cloudinit.CloudConfig
		if err := yaml.Unmarshal(s.Seed.UserData, &cfg); err != nil {
			t.Fatalf("%s's user-data: %v", s.Node.Name, err)
		}
		for _, f := range cfg.WriteFiles {
			if f.Path == guest.UnitPath {
				units[s.Node.Name] = []byte(f.Content)
			}
		}
		if units[s.Node.Name] == nil {
			t.Fatalf("%s's user-data writes nothing at %s", s.Node.Name, guest.UnitPath)
		}
	}
	return units
}

// TestResetInstallsTheUnitCreateRenders: an arm with the lab's own
// timeouts installs, byte for byte, the unit a created node has, at the
// same path; an arm with other timeouts installs another.
func TestResetInstallsTheUnitCreateRenders(t *testing.T) {
	f := &flaky{fails: map[string]int{}, ran: map[string][]string{}}
	c := planCluster(t, f)
	seeded := seededUnits(t, c)
	etcdPlan := c.st.Plan.Etcd
	if err := c.reset(t.Context(), etcdPlan.HeartbeatInterval, etcdPlan.ElectionTimeout, armEnv{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.st.Plan.Nodes {
		if !bytes.Equal(f.sent[n.Name], seeded[n.Name]) {
			t.Errorf("%s: the scenario installs\n%s\nbut create renders\n%s", n.Name, f.sent[n.Name], seeded[n.Name])
		}
		script := strings.Join(f.ran[n.Name], "\n")
		if !strings.Contains(script, "cat > "+guest.UnitPath) {
			t.Errorf("%s: reset does not write its input to %s:\n%s", n.Name, guest.UnitPath, script)
		}
	}
	if err := c.reset(t.Context(), 500*time.Millisecond, 5*time.Second, armEnv{}); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(f.sent["k8smaster0"], seeded["k8smaster0"]) {
		t.Errorf("an arm with heartbeat 500 ms installs create's unit (100 ms)")
	}
}
