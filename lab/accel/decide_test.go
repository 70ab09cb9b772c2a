package accel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fixtures are real serial consoles: booted.console is the first 350
// lines of a lab node's boot under TCG, stalled.console its first 40 (the
// kernel still probing hardware), silent.console nothing, as a guest shows
// under the KVM of these machines, firmware-only.console SeaBIOS alone.
func TestDecideFromConsoleFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		ended   string
		stage   Stage
		accel   string
		reason  string
	}{
		{"booted.console", "", StageBooted, KVM, "a guest booted under KVM in 4s: using kvm"},
		{"stalled.console", "", StageKernelStarted, TCG, "KVM present but guests do not boot (the kernel started and stalled for 4s) — using TCG"},
		{"silent.console", "", StageNothing, TCG, "KVM present but guests do not boot (no kernel output in 4s) — using TCG"},
		{"firmware-only.console", "", StageNothing, TCG, "KVM present but guests do not boot (no kernel output in 4s) — using TCG"},
		{"silent.console", "the guest went paused (reason 2)", StageNothing, TCG,
			"KVM present but guests do not boot (the guest went paused (reason 2) after 4s; no kernel output) — using TCG"},
		// A guest that booted and then stopped still booted.
		{"booted.console", "the guest went shut off (reason 1)", StageBooted, KVM, "a guest booted under KVM in 4s: using kvm"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+tt.ended, func(t *testing.T) {
			console := fixture(t, tt.fixture)
			if got := Progress(console); got != tt.stage {
				t.Errorf("Progress = %v, want %v", got, tt.stage)
			}
			r := Decide(Outcome{Console: console, Ended: tt.ended, Waited: 4200 * time.Millisecond})
			if r.Accel != tt.accel || r.Reason != tt.reason || r.Stage != tt.stage.String() {
				t.Errorf("Decide = %s, %q, stage %q; want %s, %q, %q", r.Accel, r.Reason, r.Stage, tt.accel, tt.reason, tt.stage)
			}
			if len(r.Console) > consoleTail {
				t.Errorf("kept %d bytes of console, want at most %d", len(r.Console), consoleTail)
			}
			if len(console) > 0 && !strings.HasSuffix(string(console), r.Console) {
				t.Errorf("the kept console is not the end of the console")
			}
		})
	}
}

func TestIsMSRFailure(t *testing.T) {
	msr := "internal error: qemu unexpectedly closed the monitor: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x2000000e1"
	if !IsMSRFailure(errString(msr)) {
		t.Errorf("IsMSRFailure(%q) = false", msr)
	}
	for _, e := range []error{nil, errString("Cannot access storage file")} {
		if IsMSRFailure(e) {
			t.Errorf("IsMSRFailure(%v) = true", e)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
