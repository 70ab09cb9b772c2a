package guest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProfiles(t *testing.T) {
	ssd, err := ForName(SSD, 0)
	if err != nil || ssd.WriteDelay != 0 || ssd.FlushDelay != 0 || ssd.IOTune.TotalIOPS != 0 {
		t.Fatalf("ssd = %+v, %v; want no delay and no cap", ssd, err)
	}
	hdd, err := ForName(HDD, 0)
	if err != nil {
		t.Fatal(err)
	}
	// An fdatasync is two writes and a flush: together the default.
	if got := 2*hdd.WriteDelay + hdd.FlushDelay; got != DefaultHDDFsync {
		t.Errorf("hdd fsync estimate = %s, want %s", got, DefaultHDDFsync)
	}
	if hdd.IOTune.TotalIOPS == 0 || hdd.IOTune.TotalBytes == 0 {
		t.Errorf("hdd has no host-side cap: %+v", hdd.IOTune)
	}
	slow, err := ForName(HDD, 3*time.Second)
	if err != nil || 2*slow.WriteDelay+slow.FlushDelay != 3*time.Second {
		t.Errorf("hdd 3s = %+v, %v", slow, err)
	}
	for _, bad := range []struct {
		name  string
		fsync time.Duration
		want  string
	}{
		{"nvme", 0, "use ssd or hdd"},
		{SSD, time.Second, "hdd profile only"},
		{HDD, time.Millisecond, "out of range"},
		{HDD, time.Minute, "out of range"},
	} {
		if _, err := ForName(bad.name, bad.fsync); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ForName(%q, %s) = %v, want %q", bad.name, bad.fsync, err, bad.want)
		}
	}
}

func TestTableRoundTrip(t *testing.T) {
	hdd, _ := ForName(HDD, 0)
	table := hdd.Table(8388608)
	want := "0 8388608 delay /dev/vdb 0 0 /dev/vdb 0 12 /dev/vdb 0 976"
	if table != want {
		t.Fatalf("table = %q, want %q", table, want)
	}
	w, f, err := ParseDelayTable(table)
	if err != nil || w != hdd.WriteDelay || f != hdd.FlushDelay {
		t.Fatalf("ParseTable = %s, %s, %v", w, f, err)
	}
	if _, _, err := ParseDelayTable("0 8388608 linear /dev/vdb 0"); err == nil {
		t.Fatal("a linear table parsed as a delay table")
	}
	if !strings.Contains(hdd.ApplyScript(), `delay /dev/vdb 0 0 /dev/vdb 0 12 /dev/vdb 0 976"`) {
		t.Fatalf("apply script:\n%s", hdd.ApplyScript())
	}
}

func TestScriptsAreValidShell(t *testing.T) {
	hdd, _ := ForName(HDD, 0)
	for name, script := range map[string]string{"apply": hdd.ApplyScript(), "create": CreateDelayScript(), "probe": DefaultProbe().Probe().Command()} {
		if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
			t.Errorf("%s script is not valid sh: %v\n%s\n%s", name, err, out, script)
		}
	}
}

func TestSummarise(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*100*time.Microsecond) // 0.1 ms … 10 ms
	}
	r := Summarise("k8smaster0", lat)
	if r.Writes != 100 || r.P50 != 5*time.Millisecond || r.P99 != 9900*time.Microsecond || r.Max != 10*time.Millisecond {
		t.Fatalf("result = %+v", r)
	}
	if !r.Good || !strings.Contains(r.Verdict, "good") {
		t.Fatalf("p99 9.9 ms judged %q", r.Verdict)
	}
	lat = append(lat, time.Second, time.Second)
	if r := Summarise("k8smaster0", lat); r.Good || !strings.Contains(r.Verdict, "too slow") {
		t.Fatalf("p99 1 s judged %q", r.Verdict)
	}
}

// TestProbeRunsHere runs the real probe (the Go function the guests run
// through 'lab guest fsync-probe') on this machine's disk, prints what it
// measures as the guests do, and checks that it parses.
func TestProbeRunsHere(t *testing.T) {
	o := ProbeOptions{Count: 50, MaxTime: 5 * time.Second, Dir: t.TempDir()}
	var out strings.Builder
	if err := o.Probe().Run(t.Context(), func(d time.Duration) error {
		out.WriteString(FormatLatency(d))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r, err := ParseProbe("host", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if r.Writes < 1 || r.Writes > 50 || r.Max <= 0 {
		t.Fatalf("result = %+v", r)
	}
	entries, _ := os.ReadDir(o.Dir)
	if len(entries) != 0 {
		t.Fatalf("the probe left %d files behind", len(entries))
	}
	if _, err := ParseProbe("host", "12\nabc\n"); err == nil {
		t.Fatal("garbage parsed")
	}
}

// TestScriptsLoadTheTable runs the create and apply scripts with stand-ins
// for blockdev and dmsetup that record what they are given: the table they
// load must be, byte for byte, the profile's Table for that disk size.
func TestScriptsLoadTheTable(t *testing.T) {
	const sectors = 8388608
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "dmsetup.log")
	stubs := map[string]string{
		"blockdev": "#!/bin/sh\n[ \"$1 $2\" = \"--getsz " + DataDisk + "\" ] || exit 1\necho " + fmt.Sprint(sectors) + "\n",
		// dmsetup records --table's argument, and prints it for table.
		"dmsetup": "#!/bin/sh\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --table ]; then printf '%s\\n' \"$2\" >> " + log +
			"; fi; shift; done\n[ -f " + log + " ] && tail -n 1 " + log + "\nexit 0\n",
	}
	for name, text := range stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(script string) string {
		t.Helper()
		cmd := exec.Command("sh", "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s\n%s", err, out, script)
		}
		loaded, _ := os.ReadFile(log)
		os.Remove(log)
		return strings.TrimSpace(string(loaded))
	}
	ssd, _ := ForName(SSD, 0)
	if got, want := run(CreateDelayScript()), ssd.Table(sectors); got != want {
		t.Errorf("create loads %q, want %q", got, want)
	}
	hdd, _ := ForName(HDD, 0)
	if got, want := run(hdd.ApplyScript()), hdd.Table(sectors); got != want {
		t.Errorf("apply loads %q, want %q", got, want)
	}
}
