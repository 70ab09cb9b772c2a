//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"libvirt.org/go/libvirtxml"
)

// TestDiskBoot is the path of the official cloud images, which boot from
// their own disk and cannot be downloaded here: a locally built image with
// GRUB on a partitioned disk (lab image build --boot disk, built here unless
// cached) must make a working one-node lab without direct kernel boot.
func TestDiskBoot(t *testing.T) {
	lv := connectLibvirt(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
	defer cancel()
	state := t.TempDir()
	const (
		name = "dboot"
		net  = "192.168.196.0/24"
	)
	run := func(args ...string) (string, error) {
		return runLabNamed(t, ctx, name, state, args...)
	}

	start := time.Now()
	out, err := run("-o", "json", "image", "build", "--boot", "disk")
	if err != nil {
		t.Fatalf("lab image build --boot disk: %v\n%s", err, out)
	}
	var built []struct {
		Name, Key, Boot, Disk, Kernel string
		Metadata                      map[string]string
	}
	if err := json.Unmarshal([]byte(out), &built); err != nil || len(built) != 1 {
		t.Fatalf("image build output (%v):\n%s", err, out)
	}
	img := built[0]
	t.Logf("lab image build --boot disk took %s: %s (%s)", time.Since(start).Round(time.Second), img.Name, img.Key)
	if img.Boot != "disk" || img.Kernel != "" || img.Metadata["root_device"] != "/dev/vda1" {
		t.Fatalf("built image = %+v, want disk boot with root /dev/vda1 and no kernel", img)
	}

	t.Cleanup(func() {
		if _, err := runLabNamed(t, context.Background(), name, state, "destroy"); err != nil {
			t.Errorf("cleanup destroy: %v", err)
		}
	})
	start = time.Now()
	out, err = run("create", "--nodes", "1", "--accel", "tcg", "--cpus", "1", "--memory", "768",
		"--image", img.Name, "--subnet", net)
	if err != nil {
		t.Fatalf("lab create --image %s: %v\n%s", img.Name, err, out)
	}
	t.Logf("lab create (boot, ssh, cloud-init, etcd quorum) took %s", time.Since(start).Round(time.Second))
	if !strings.Contains(out, "k8smaster0") || !strings.Contains(out, "started") {
		t.Fatalf("create's member table lacks k8smaster0 started:\n%s", out)
	}

	// The domain boots its disk: no kernel, initrd or command line of ours.
	dom, err := lv.DomainLookupByName(name + "-k8smaster0")
	if err != nil {
		t.Fatal(err)
	}
	desc, err := lv.DomainGetXMLDesc(dom, 0)
	if err != nil {
		t.Fatal(err)
	}
	var def libvirtxml.Domain
	if err := def.Unmarshal(desc); err != nil {
		t.Fatal(err)
	}
	if o := def.OS; o == nil || o.Kernel != "" || o.Initrd != "" || o.Cmdline != "" ||
		len(o.BootDevices) != 1 || o.BootDevices[0].Dev != "hd" {
		t.Errorf("domain <os> is not a disk boot:\n%s", desc)
	}

	out, err = run("-o", "json", "status")
	if err != nil || strings.Count(out, `"healthy": true`) != 1 {
		t.Errorf("lab status (%v):\n%s", err, out)
	}
	// Root is partition 1, and GRUB (which adds BOOT_IMAGE) started the
	// kernel with the image's command line.
	out, err = run("ssh", "k8smaster0", "--", "findmnt", "-n", "-o", "SOURCE", "/")
	if err != nil || strings.TrimSpace(out) != "/dev/vda1" {
		t.Errorf("findmnt / = %q, %v; want /dev/vda1", out, err)
	}
	out, err = run("ssh", "k8smaster0", "--", "cat", "/proc/cmdline")
	if err != nil || !strings.Contains(out, "BOOT_IMAGE=/boot/vmlinuz-") || !strings.Contains(out, "root=/dev/vda1") {
		t.Errorf("/proc/cmdline = %q, %v; want GRUB's BOOT_IMAGE and root=/dev/vda1", out, err)
	}
	t.Logf("k8smaster0 booted from its disk: %s", strings.TrimSpace(out))

	if out, err := run("destroy"); err != nil {
		t.Fatalf("lab destroy: %v\n%s", err, out)
	}
	assertNothingLeft(t, lv, name)
}
