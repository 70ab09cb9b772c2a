package cloudinit

import (
	"bytes"
	"crypto/rand"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kdomanski/iso9660"
)

// testSeed renders the representative node and adds extra files: one in
// memory, an empty one, and a large one from disk reached through a
// symbolic link, the way a cache hands out binaries.
func testSeed(t *testing.T) Seed {
	t.Helper()
	meta, network, user := k8smaster0(t)
	var s Seed
	var err error
	if s.MetaData, err = meta.Marshal(); err != nil {
		t.Fatal(err)
	}
	if s.NetworkConfig, err = network.Marshal(); err != nil {
		t.Fatal(err)
	}
	if s.UserData, err = user.Marshal(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	big := make([]byte, 3<<20+123) // spans many 2 KiB sectors and ends mid-sector
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etcd-v3.6.16"), big, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("etcd-v3.6.16", filepath.Join(dir, "etcd")); err != nil {
		t.Fatal(err)
	}
	s.Extra = map[string][]byte{"lab": []byte("lab\n"), "empty": {}}
	s.ExtraFiles = map[string]string{"etcd": filepath.Join(dir, "etcd")}
	return s
}

// want lists the seed's files with their contents.
func wantFiles(t *testing.T, s Seed) map[string][]byte {
	t.Helper()
	m := map[string][]byte{MetaDataFile: s.MetaData, UserDataFile: s.UserData, NetworkConfigFile: s.NetworkConfig}
	maps.Copy(m, s.Extra)
	for name, p := range s.ExtraFiles {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = b
	}
	return m
}

func TestISOReadsBack(t *testing.T) {
	s := testSeed(t)
	img, err := ISO(s)
	if err != nil {
		t.Fatal(err)
	}

	// The primary volume descriptor is sector 16: type 1, "CD001", and
	// the volume identifier in bytes 40-71, space padded.
	pvd := img[16*2048 : 17*2048]
	if pvd[0] != 1 || string(pvd[1:6]) != "CD001" {
		t.Fatalf("sector 16 is not a primary volume descriptor: % x", pvd[:8])
	}
	if got := strings.TrimRight(string(pvd[40:72]), " "); got != "cidata" {
		t.Errorf("volume identifier is %q, want cidata", got)
	}

	r, err := iso9660.OpenImage(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if label, err := r.Label(); err != nil || label != "cidata" {
		t.Errorf("label %q, %v; want cidata", label, err)
	}
	root, err := r.RootDir()
	if err != nil {
		t.Fatal(err)
	}
	children, err := root.GetChildren()
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string][]byte)
	for _, c := range children {
		if c.IsDir() {
			t.Errorf("unexpected directory %s on the seed", c.Name())
			continue
		}
		b, err := io.ReadAll(c.Reader())
		if err != nil {
			t.Fatal(err)
		}
		got[c.Name()] = b
	}
	want := wantFiles(t, s)
	if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
		t.Fatalf("ISO holds %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("%s on the ISO differs: %d bytes, want %d", name, len(got[name]), len(b))
		}
	}
}

func TestWriteDirMatchesISO(t *testing.T) {
	s := testSeed(t)
	dir := filepath.Join(t.TempDir(), "k8smaster0")
	if err := WriteDir(dir, s); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := wantFiles(t, s)
	if len(entries) != len(want) {
		t.Errorf("%s holds %d files, want %d", dir, len(entries), len(want))
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, want[e.Name()]) {
			t.Errorf("%s differs from the seed's bytes", e.Name())
		}
		if fi, _ := e.Info(); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), fi.Mode())
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("seed directory mode %v, %v; want 0700", fi.Mode(), err)
	}
}

func TestSeedWithoutNetworkConfig(t *testing.T) {
	s := Seed{MetaData: []byte("instance-id: x\n"), UserData: []byte(Header)}
	dir := t.TempDir()
	if err := WriteDir(dir, s); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, NetworkConfigFile)); !os.IsNotExist(err) {
		t.Errorf("network-config was written for a seed without one: %v", err)
	}
}

func TestSeedRejects(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := func() Seed { return Seed{MetaData: []byte("instance-id: x\n"), UserData: []byte(Header)} }
	cases := map[string]func(*Seed){
		"no meta-data":  func(s *Seed) { s.MetaData = nil },
		"no user-data":  func(s *Seed) { s.UserData = nil },
		"upper case":    func(s *Seed) { s.Extra = map[string][]byte{"Etcd": nil} },
		"dot":           func(s *Seed) { s.Extra = map[string][]byte{"etcd.tar": nil} },
		"slash":         func(s *Seed) { s.Extra = map[string][]byte{"bin/etcd": nil} },
		"empty name":    func(s *Seed) { s.Extra = map[string][]byte{"": nil} },
		"leading dash":  func(s *Seed) { s.Extra = map[string][]byte{"-etcd": nil} },
		"too long":      func(s *Seed) { s.Extra = map[string][]byte{strings.Repeat("a", 29): nil} },
		"reserved name": func(s *Seed) { s.Extra = map[string][]byte{"user-data": nil} },
		"vendor-data":   func(s *Seed) { s.ExtraFiles = map[string]string{"vendor-data": file} },
		"bad file name": func(s *Seed) { s.ExtraFiles = map[string]string{"etcd.bin": file} },
		"both bytes and path": func(s *Seed) {
			s.Extra = map[string][]byte{"etcd": nil}
			s.ExtraFiles = map[string]string{"etcd": file}
		},
		"missing file":        func(s *Seed) { s.ExtraFiles = map[string]string{"etcd": filepath.Join(dir, "missing")} },
		"directory as a file": func(s *Seed) { s.ExtraFiles = map[string]string{"etcd": dir} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			s := base()
			mutate(&s)
			if err := WriteISO(io.Discard, s); err == nil {
				t.Error("WriteISO accepted the seed")
			}
			out := filepath.Join(t.TempDir(), "out")
			if err := WriteDir(out, s); err == nil {
				t.Error("WriteDir accepted the seed")
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Error("WriteDir created its directory for an invalid seed")
			}
		})
	}
	if err := ValidExtraName(strings.Repeat("a", 28)); err != nil {
		t.Errorf("a 28-character name was rejected: %v", err)
	}
}
