package images

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func contextCancelled(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

// TestKeyIsStable pins the key of the default build. If this test fails,
// the build inputs changed: that is right only together with a change that
// makes the image different, and then the new key is the one to pin.
func TestKeyIsStable(t *testing.T) {
	in := buildInputs{Suite: "bookworm", Arch: "amd64", Packages: Packages("amd64")}
	if got, want := in.Key(), "debian-12-52f9b53e637d0a94"; got != want {
		t.Fatalf("Key() = %q, want %q", got, want)
	}
	// Naming BootKernel is the same as leaving it out.
	in.Boot = BootKernel
	if got, want := in.Key(), "debian-12-52f9b53e637d0a94"; got != want {
		t.Fatalf("Key() with BootKernel = %q, want %q", got, want)
	}
	in.Boot = BootDisk
	if got, want := in.Key(), "debian-12-disk-247a227363039c7a"; got != want {
		t.Fatalf("Key() with BootDisk = %q, want %q", got, want)
	}
}

func TestKeyDependsOnInputsOnly(t *testing.T) {
	base := buildInputs{Suite: "bookworm", Arch: "amd64", Packages: Packages("amd64")}
	shuffled := base
	shuffled.Packages = slices.Clone(base.Packages)
	slices.Reverse(shuffled.Packages)
	if base.Key() != shuffled.Key() {
		t.Error("package order changed the key")
	}
	disk := base
	disk.Boot = BootDisk
	if !strings.HasPrefix(disk.Key(), "debian-12-disk-") || strings.TrimPrefix(disk.Key(), "debian-12-disk-") == strings.TrimPrefix(base.Key(), "debian-12-") {
		t.Errorf("disk-boot key %s is not its own", disk.Key())
	}
	for name, in := range map[string]buildInputs{
		"suite":    {Suite: "trixie", Arch: "amd64", Packages: base.Packages},
		"arch":     {Suite: "bookworm", Arch: "arm64", Packages: base.Packages},
		"packages": {Suite: "bookworm", Arch: "amd64", Packages: append(slices.Clone(base.Packages), "vim")},
	} {
		if in.Key() == base.Key() {
			t.Errorf("changing the %s kept the key %s", name, in.Key())
		}
	}
	// The guest's configuration is an input too: a unit masked or not
	// makes a different image.
	masked := MaskedUnits
	MaskedUnits = append(slices.Clone(masked), "ssh.service")
	changed := base.Key()
	MaskedUnits = masked
	if changed == base.Key() {
		t.Errorf("masking one more unit kept the key %s", changed)
	}
	if got := (buildInputs{Suite: "trixie", Arch: "amd64"}).Key()[:10]; got != "debian-13-" {
		t.Errorf("trixie key prefix = %q", got)
	}
}

func TestPackagesNameWhatTheGuestNeeds(t *testing.T) {
	pkgs := Packages("amd64")
	for _, p := range []string{"systemd-sysv", "linux-image-cloud-amd64", "cloud-init", "python3-cffi-backend",
		"openssh-server", "sudo", "iproute2", "ifupdown", "isc-dhcp-client", "udev", "kmod", "netbase",
		"ca-certificates", "locales", "e2fsprogs", "dmsetup"} {
		if !slices.Contains(pkgs, p) {
			t.Errorf("package list lacks %s", p)
		}
	}
	if slices.Contains(pkgs, "systemd-timesyncd") {
		t.Error("package list has systemd-timesyncd")
	}
}

func TestBuiltName(t *testing.T) {
	for suite, want := range map[string]string{"bookworm": "debian-12", "trixie": "debian-13", "sid": "debian-sid"} {
		if got := BuiltName(suite); got != want {
			t.Errorf("BuiltName(%q) = %q, want %q", suite, got, want)
		}
	}
}

func TestNaturalLess(t *testing.T) {
	ordered := []string{"vmlinuz-6.1.0-9-cloud-amd64", "vmlinuz-6.1.0-37-cloud-amd64", "vmlinuz-6.10.0-1-cloud-amd64", "vmlinuz-6.10.0-1-cloud-amd64x"}
	for i := range ordered {
		for j := range ordered {
			if got := naturalLess(ordered[i], ordered[j]); got != (i < j) {
				t.Errorf("naturalLess(%q, %q) = %v", ordered[i], ordered[j], got)
			}
		}
	}
}
