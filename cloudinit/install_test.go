package cloudinit

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestInstallLinesRunInShell runs the generated check-and-install line
// with the host's sh and coreutils, against a directory standing in for
// the mounted seed.
func TestInstallLinesRunInShell(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Fatalf("this test needs coreutils' sha256sum: %v", err)
	}
	seedDir, destDir := t.TempDir(), t.TempDir()
	content := []byte("#!/bin/sh\necho etcd\n")
	if err := os.WriteFile(filepath.Join(seedDir, "etcd"), content, 0o444); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	good := hex.EncodeToString(sum[:])
	bad := hex.EncodeToString(make([]byte, 32))

	run := func(t *testing.T, digest, dest string) error {
		t.Helper()
		cmds, err := InstallCommands(seedDir, Install{Name: "etcd", SHA256: digest, Dest: dest, Mode: 0o755})
		if err != nil {
			t.Fatal(err)
		}
		// mkdir, mount, the file's line, umount.
		if len(cmds) != 4 || cmds[0].Args[0] != "mkdir" || cmds[3].Args[0] != "umount" {
			t.Fatalf("unexpected commands %#v", cmds)
		}
		line := cmds[2].Shell
		// The line runs inside cloud-init's runcmd script: follow it
		// with a marker that must not run after a failed check.
		return exec.Command("sh", "-c", line+"\necho after > "+filepath.Join(destDir, "after")).Run()
	}

	t.Run("digest matches", func(t *testing.T) {
		dest := filepath.Join(destDir, "etcd")
		if err := run(t, good, dest); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dest)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o755 {
			t.Errorf("installed with mode %v, want 0755", fi.Mode())
		}
		if _, err := os.Stat(filepath.Join(destDir, "after")); err != nil {
			t.Errorf("the script did not go on after a good install: %v", err)
		}
	})
	t.Run("digest differs", func(t *testing.T) {
		os.Remove(filepath.Join(destDir, "after"))
		dest := filepath.Join(destDir, "etcd-bad")
		err := run(t, bad, dest)
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("a digest mismatch gave %v, want exit status 1", err)
		}
		if _, err := os.Stat(dest); !os.IsNotExist(err) {
			t.Errorf("a file with the wrong digest was installed: %v", err)
		}
		if _, err := os.Stat(filepath.Join(destDir, "after")); !os.IsNotExist(err) {
			t.Error("the script went on after a digest mismatch")
		}
	})
}

func TestInstallCommandsRejects(t *testing.T) {
	sum := hex.EncodeToString(make([]byte, 32))
	for name, tc := range map[string]struct {
		mount string
		file  Install
	}{
		"relative mount point": {"run/seed", Install{Name: "etcd", SHA256: sum, Dest: "/usr/local/bin/etcd", Mode: 0o755}},
		"quote in mount point": {"/run/'seed", Install{Name: "etcd", SHA256: sum, Dest: "/usr/local/bin/etcd", Mode: 0o755}},
		"bad name":             {"/run/seed", Install{Name: "etcd.bin", SHA256: sum, Dest: "/usr/local/bin/etcd", Mode: 0o755}},
		"short digest":         {"/run/seed", Install{Name: "etcd", SHA256: sum[:10], Dest: "/usr/local/bin/etcd", Mode: 0o755}},
		"upper-case digest":    {"/run/seed", Install{Name: "etcd", SHA256: "AB" + sum[2:], Dest: "/usr/local/bin/etcd", Mode: 0o755}},
		"relative destination": {"/run/seed", Install{Name: "etcd", SHA256: sum, Dest: "etcd", Mode: 0o755}},
		"shell in destination": {"/run/seed", Install{Name: "etcd", SHA256: sum, Dest: "/usr/bin/$(reboot)", Mode: 0o755}},
		"zero mode":            {"/run/seed", Install{Name: "etcd", SHA256: sum, Dest: "/usr/local/bin/etcd"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := InstallCommands(tc.mount, tc.file); err == nil {
				t.Error("InstallCommands accepted it")
			}
		})
	}
	if _, err := InstallCommands("/run/seed"); err == nil {
		t.Error("InstallCommands accepted no files")
	}
}
