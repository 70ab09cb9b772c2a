package images

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/internal/golden"

	"gopkg.in/yaml.v3"

	"github.com/kthw-lab/lab/cloudinit"
)

// TestGuestConfigurationGolden shows, whole, what the build adds to the root
// filesystem to make it a lab guest: cloud-init's datasource and modules,
// the masked units, the blacklisted kernel modules, the sshd drop-in and
// etcd's directories. A change here changes every lab's first boot.
func TestGuestConfigurationGolden(t *testing.T) {
	root := t.TempDir()
	// A unit enabled by a package before the build masks it: the mask
	// must replace the link, not fail on it.
	units := filepath.Join(root, "etc", "systemd", "system")
	if err := os.MkdirAll(units, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/lib/systemd/system/fstrim.timer", filepath.Join(units, "fstrim.timer")); err != nil {
		t.Fatal(err)
	}
	if err := configureGuest(root); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "/%s -> %s\n", rel, target)
		case info.IsDir():
			fmt.Fprintf(&b, "/%s/ %04o\n", rel, info.Mode().Perm())
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "/%s %04o\n%s\n", rel, info.Mode().Perm(), indent(string(data)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "guest.golden"), []byte(b.String()))
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}

// TestSystemConfigRunsOnlyWhatTheSeedUses parses the image's cloud-init
// file back and checks it against the seed a node gets: one datasource,
// every module in the init stage, none left for the config and final
// stages, and none that the lab's cloud-config keys do not need.
func TestSystemConfigRunsOnlyWhatTheSeedUses(t *testing.T) {
	files, err := guestConfigFiles()
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, f := range files {
		if f.path == cloudinit.SystemConfigPath {
			raw = []byte(f.content)
		}
	}
	var got struct {
		Datasources []string  `yaml:"datasource_list"`
		Init        []string  `yaml:"cloud_init_modules"`
		Config      *[]string `yaml:"cloud_config_modules"`
		Final       *[]string `yaml:"cloud_final_modules"`
	}
	if err := yaml.Unmarshal(raw, &got); err != nil {
		t.Fatalf("parsing %s: %v\n%s", cloudinit.SystemConfigPath, err, raw)
	}
	if !slices.Equal(got.Datasources, []string{"NoCloud"}) {
		t.Errorf("datasource_list = %v, want [NoCloud]", got.Datasources)
	}
	// An absent key would leave cloud.cfg's long lists in force.
	if got.Config == nil || len(*got.Config) != 0 || got.Final == nil || len(*got.Final) != 0 {
		t.Errorf("config and final stages must be present and empty: %v %v", got.Config, got.Final)
	}
	// The seed's keys and the module that handles each; final_message
	// is last, so the console marker means every module has run.
	need := []string{"bootcmd", "write_files", "disk_setup", "set_hostname", "users_groups", "ssh", "runcmd", "scripts_user", "final_message"}
	for _, m := range need {
		if !slices.Contains(got.Init, m) {
			t.Errorf("cloud_init_modules lacks %s", m)
		}
	}
	if got.Init[len(got.Init)-1] != "final_message" {
		t.Errorf("the last module is %s, want final_message", got.Init[len(got.Init)-1])
	}
	if i, j := slices.Index(got.Init, "runcmd"), slices.Index(got.Init, "scripts_user"); i > j {
		t.Errorf("scripts_user runs before runcmd writes the script")
	}
	for _, m := range got.Init {
		if slices.Contains([]string{"locale", "set_passwords", "growpart", "resizefs", "ca_certs", "rsyslog", "seed_random", "keys_to_console", "ssh_authkey_fingerprints", "mounts"}, m) {
			t.Errorf("module %s runs though no lab needs it", m)
		}
	}
}
