package slowdisk

import (
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
	"github.com/kthw-lab/lab/scenarios/report"
)

// armWith is an arm whose samples show one leader from elected on, with
// the given elections and slow-fsync lines.
func armWith(name string, elected time.Duration, elections, slow int) report.Arm {
	a := report.Arm{Name: name, Election: measure.Seconds(time.Second), TimeToFirstLeader: measure.Seconds(elected), LeaderChanges: 0,
		MaxTerm: 2, Elections: elections, SlowFsyncLines: slow}
	for at := elected; at < elected+10*time.Second; at += time.Second {
		a.Samples = append(a.Samples, report.Sample{At: measure.Seconds(at), Member: "k8smaster0", Term: 2, Leader: "k8smaster1"})
	}
	return a
}

func TestContrast(t *testing.T) {
	story := report.Report{Arms: []report.Arm{
		armWith("ssd", 3*time.Second, 1, 0),
		armWith("hdd", 33*time.Second, 6, 40),
		armWith("hdd-tuned", 12*time.Second, 1, 35),
	}}
	if err := Contrast(story); err != nil {
		t.Fatalf("the story's report: %v", err)
	}
	if got := ContrastShown(report.Report{Arms: story.Arms[:2]}); got != "ssd keeps one leader; hdd struggles to elect one and logs slow fsyncs" {
		t.Errorf("Shown(ssd, hdd) = %q", got)
	}
	never := story
	never.Arms = append([]report.Arm(nil), story.Arms...)
	never.Arms[1] = report.Arm{Name: "hdd", TimeToFirstLeader: report.Never, Elections: 107, SlowFsyncLines: 50, MaxTerm: 108}
	if err := Contrast(never); err != nil {
		t.Fatalf("an hdd arm that never elected: %v", err)
	}
	for _, tc := range []struct {
		name string
		arm  int
		with report.Arm
		want string
	}{
		{"hdd elects like ssd", 1, armWith("hdd", 3*time.Second, 1, 40), "no repeated elections"},
		{"hdd elects in time", 1, armWith("hdd", 4*time.Second, 3, 40), "no election trouble"},
		{"hdd logs no slow fsync", 1, armWith("hdd", 33*time.Second, 6, 0), "no slow fsync"},
		{"hdd-tuned changes leader", 2, func() report.Arm { a := armWith("hdd-tuned", 12*time.Second, 3, 35); a.LeaderChanges = 2; return a }(), "hdd-tuned did not keep one leader"},
	} {
		r := story
		r.Arms = append([]report.Arm(nil), story.Arms...)
		r.Arms[tc.arm] = tc.with
		if err := Contrast(r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestContrastInconclusive: a control that took 17 s to its first leader
// (the loaded host) makes --strict fail with that reason, whatever
// the other arms show.
func TestContrastInconclusive(t *testing.T) {
	ssd := armWith("ssd", 17*time.Second, 2, 0)
	ssd.Profile = "ssd"
	r := report.Report{Arms: []report.Arm{ssd, armWith("hdd", 33*time.Second, 6, 40), armWith("hdd-tuned", 12*time.Second, 1, 35)}}
	err := Contrast(r)
	if err == nil || !strings.HasPrefix(err.Error(), report.Inconclusive) || !strings.Contains(err.Error(), "first leader after 17 s") {
		t.Errorf("Contrast = %v, want %q with the control's first leader", err, report.Inconclusive)
	}
	r.Arms[0] = armWith("ssd", 3*time.Second, 1, 0)
	r.Arms[0].Profile = "ssd"
	if err := Contrast(r); err != nil {
		t.Errorf("a healthy control: %v", err)
	}
}

// TestContrastStoryGeneration: hdd on etcd 3.4 must show the trouble and
// hdd-tuned on it must elect.
func TestContrastStoryGeneration(t *testing.T) {
	arms := []report.Arm{
		armWith("ssd", 3*time.Second, 1, 0), armWith("hdd", 33*time.Second, 6, 40), armWith("hdd-tuned", 12*time.Second, 1, 35),
		{Name: "hdd@v3.4.23", TimeToFirstLeader: report.Never, Elections: 165, SlowFsyncLines: 60, MaxTerm: 166},
		armWith("hdd-tuned@v3.4.23", 20*time.Second, 3, 30),
	}
	if err := Contrast(report.Report{Arms: arms}); err != nil {
		t.Fatalf("the story with 3.4: %v", err)
	}
	if got := ContrastShown(report.Report{Arms: arms[3:]}); got != "hdd on etcd v3.4.23 struggles to elect one and logs slow fsyncs; hdd-tuned on etcd v3.4.23 elects one" {
		t.Errorf("Shown = %q", got)
	}
	calm := append([]report.Arm(nil), arms...)
	calm[3] = armWith("hdd@v3.4.23", 3*time.Second, 1, 40)
	calm[4] = report.Arm{Name: "hdd-tuned@v3.4.23", TimeToFirstLeader: report.Never}
	err := Contrast(report.Report{Arms: calm})
	if err == nil || !strings.Contains(err.Error(), "hdd@v3.4.23: 1 election(s)") || !strings.Contains(err.Error(), "hdd-tuned@v3.4.23 never elected a leader on etcd v3.4.23") {
		t.Errorf("Contrast = %v", err)
	}
}
