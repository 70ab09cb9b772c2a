package ssh

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns a new pseudo-terminal's controlling side and its terminal.
func openPTY(t *testing.T) (ptmx, tty *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("opening /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("getting pty number: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening pty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return ptmx, tty
}

func TestShellOnTerminal(t *testing.T) {
	_, tty := openPTY(t)
	fd := int(tty.Fd())
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: 132}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if before.Lflag&(unix.ICANON|unix.ECHO) == 0 {
		t.Fatal("a new pty is already raw")
	}

	s := startServer(t)
	var during *unix.Termios
	s.mu.Lock()
	s.onShell = func() {
		t, _ := unix.IoctlGetTermios(fd, unix.TCGETS)
		s.mu.Lock()
		during = t
		s.mu.Unlock()
	}
	s.mu.Unlock()
	c := dial(t, s.config())
	t.Setenv("TERM", "xterm")
	if err := c.Shell(t.Context(), tty, os.Stdout, os.Stderr, true); err != nil {
		t.Fatalf("Shell: %v", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if during == nil || during.Lflag&(unix.ICANON|unix.ECHO) != 0 {
		t.Errorf("terminal not raw during the session: %+v", during)
	}
	after, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if after.Lflag != before.Lflag || after.Iflag != before.Iflag || after.Oflag != before.Oflag {
		t.Errorf("terminal not restored: before %+v, after %+v", before, after)
	}
	if len(s.ptys) != 1 || s.ptys[0].Columns != 132 || s.ptys[0].Rows != 50 || s.ptys[0].Term != "xterm" {
		t.Errorf("pty-req = %+v, want xterm 132x50 from the local terminal", s.ptys)
	}
}
