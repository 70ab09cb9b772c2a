package doctor

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseMemAvailable(t *testing.T) {
	got, err := parseMemAvailable([]byte("MemTotal:       32768000 kB\nMemFree:         1000 kB\nMemAvailable:   24173044 kB\nBuffers: 1 kB\n"))
	if err != nil || got != 24173044*1024 {
		t.Errorf("parseMemAvailable = %d, %v; want %d", got, err, 24173044*1024)
	}
	if _, err := parseMemAvailable([]byte("MemTotal: 1 kB\n")); err == nil {
		t.Error("parseMemAvailable accepted a meminfo without MemAvailable")
	}
}

func TestMemAvailableOnThisHost(t *testing.T) {
	got, err := memAvailable("/proc/meminfo")
	if err != nil || got == 0 {
		t.Fatalf("memAvailable = %d, %v", got, err)
	}
}

// TestAskLibvirtRefusesTheUnixTransport: the doctor dials through virt, so a
// transport lab refuses is refused before anything is dialled, as
// virt.Dial and --connect refuse it.
func TestAskLibvirtRefusesTheUnixTransport(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "libvirt-sock")
	_, err := askLibvirt(t.Context(), sock, "qemu+unix:///system?socket="+sock)
	if err == nil || !strings.Contains(err.Error(), "use qemu:///system or qemu:///session for this machine (?socket=PATH") {
		t.Errorf("askLibvirt(qemu+unix) = %v, want the refusal naming qemu:///system?socket=", err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("askLibvirt(qemu+unix) dialled the socket: %v", err)
	}
}

func TestDiskSpaceMeasuresTheNearestExistingParent(t *testing.T) {
	dir := t.TempDir()
	got, err := diskSpace(filepath.Join(dir, "not", "yet"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Measured != dir || got.Free == 0 || got.Filesystem == "" {
		t.Errorf("diskSpace = %+v, want measured at %s with free space and a filesystem id", got, dir)
	}
	same, err := diskSpace(dir)
	if err != nil || same.Filesystem != got.Filesystem {
		t.Errorf("diskSpace(%s) = %+v, %v; want filesystem %s", dir, same, err, got.Filesystem)
	}
}

func TestLookPathFindsSystemDirectories(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	p, err := lookPath("sh")
	if err != nil || !strings.HasSuffix(p, "/sh") {
		t.Errorf("lookPath(sh) with an empty PATH = %q, %v", p, err)
	}
	if _, err := lookPath("no-such-program-here"); err == nil {
		t.Error("lookPath found a program that does not exist")
	}
}

func TestStatFile(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, err := statFile(sock)
	if err != nil || st.Mode.Type() != fs.ModeSocket || st.Owner == "" || st.Group == "" {
		t.Errorf("statFile(socket) = %+v, %v", st, err)
	}
	if _, err := statFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("statFile(missing) error = %v, want ErrNotExist", err)
	}
}

func TestQEMUUserFromConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "qemu.conf")
	for _, line := range []string{`user = "root"`, `  user = "+0"`, "#user = \"nobody\"\nuser = \"root\""} {
		if err := os.WriteFile(conf, []byte(line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		u, err := qemuUser(conf)
		if err != nil || u.Name != "root" || !u.Root || len(u.Groups) == 0 {
			t.Errorf("qemuUser with %q = %+v, %v; want root", line, u, err)
		}
	}
	if err := os.WriteFile(conf, []byte(`user = "no-such-user-lab"`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := qemuUser(conf); err == nil || !strings.Contains(err.Error(), `looking up the qemu user "no-such-user-lab"`) {
		t.Errorf("qemuUser with an unknown user: %v", err)
	}
}

func TestAskLibvirtNoDaemon(t *testing.T) {
	_, err := askLibvirt(t.Context(), filepath.Join(t.TempDir(), "libvirt-sock"), "qemu:///system")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("askLibvirt on a missing socket: %v, want ErrNotExist", err)
	}
}

func TestAskLibvirtStaleSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "libvirt-sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the socket file stays, nobody listens: a dead daemon
	_, err = askLibvirt(t.Context(), sock, "qemu:///system")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("askLibvirt on a stale socket: %v, want ECONNREFUSED", err)
	}
}

// A daemon that accepts but never answers must not hang the doctor.
func TestAskLibvirtSilentDaemon(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "libvirt-sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = askLibvirt(ctx, sock, "qemu:///system")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("askLibvirt on a silent daemon: %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("askLibvirt took %s past a 200ms deadline", d)
	}
}
