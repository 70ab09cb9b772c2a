package slowdisk

import (
	"errors"
	"fmt"

	"github.com/kthw-lab/lab/scenarios/report"
)

// Contrast checks that a report shows what the scenario is for: the ssd
// arm keeps one leader after its first election, the hdd arm shows the
// story's symptoms — more elections than ssd needed (or no leader at all)
// and slow-fsync warnings in the log — and hdd-tuned keeps one leader.
// Arms that did not run are not judged.
func Contrast(r report.Report) error {
	arms := map[string]report.Arm{}
	for _, a := range r.Arms {
		arms[a.Name] = a
	}
	var errs []error
	for _, name := range []string{"ssd", "hdd-tuned"} {
		if a, ok := arms[name]; ok && !report.Stable(a) {
			errs = append(errs, fmt.Errorf("%s did not keep one leader: %s", name, report.Verdict(a)))
		}
	}
	if hdd, ok := arms["hdd"]; ok {
		baseline := 0
		if ssd, ok := arms["ssd"]; ok {
			baseline = ssd.Elections
		}
		if hdd.Elected() && hdd.Elections <= max(baseline, 1) {
			errs = append(errs, fmt.Errorf("hdd showed %d elections (ssd %d): no election trouble", hdd.Elections, baseline))
		}
		if hdd.SlowFsyncLines == 0 {
			errs = append(errs, errors.New("hdd logged no slow fsync"))
		}
	}
	return errors.Join(errs...)
}
