package slowdisk

import (
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/scenarios/measure"
	"github.com/kthw-lab/lab/scenarios/report"
)

func TestRestoreWait(t *testing.T) {
	for _, tc := range []struct {
		name string
		arms []report.Arm
		want time.Duration
	}{
		{"no arm ran", nil, minRestoreWait},
		{"a quick control", []report.Arm{{Profile: guest.SSD, TimeToFirstLeader: measure.Seconds(4 * time.Second)}}, minRestoreWait},
		{"a starved control", []report.Arm{{Profile: guest.SSD, TimeToFirstLeader: measure.Seconds(50 * time.Second)}}, 250 * time.Second},
		{"only the control counts", []report.Arm{
			{Profile: guest.SSD, TimeToFirstLeader: measure.Seconds(40 * time.Second)},
			{Profile: guest.HDD, TimeToFirstLeader: measure.Seconds(5 * time.Minute)},
		}, 200 * time.Second},
		{"a control that never elected", []report.Arm{{Profile: guest.SSD, TimeToFirstLeader: report.Never}}, minRestoreWait},
	} {
		if got := restoreWait(tc.arms); got != tc.want {
			t.Errorf("%s: restoreWait = %s, want %s", tc.name, got, tc.want)
		}
	}
}
