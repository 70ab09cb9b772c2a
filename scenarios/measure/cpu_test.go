package measure

import (
	"math"
	"testing"
)

func TestParseCPU(t *testing.T) {
	before, err := ParseCPU("cpu  100 0 50 800 20 0 5 25 0 0\n0.50 0.40 0.30 1/80 1234\n")
	if err != nil {
		t.Fatal(err)
	}
	after, err := ParseCPU("cpu  300 0 150 1000 20 0 5 225 0 0\n3.10 1.00 0.50 2/81 1240\n")
	if err != nil {
		t.Fatal(err)
	}
	if before.Total != 1000 || before.Steal != 25 || after.Load1 != 3.1 {
		t.Errorf("readings = %+v, %+v", before, after)
	}
	// 200 of the 700 jiffies in between were stolen.
	if got := StealShare(before, after); math.Abs(got-2.0/7) > 1e-9 {
		t.Errorf("StealShare = %v, want 2/7", got)
	}
	if StealShare(after, before) != 0 {
		t.Errorf("StealShare backwards is not 0")
	}
	for _, bad := range []string{"", "cpu 1 2 3\n0.1", "intr 5\n0.1 0.2", "cpu  1 2 3 4 5 6 7 x\n0.1"} {
		if _, err := ParseCPU(bad); err == nil {
			t.Errorf("ParseCPU(%q) took it", bad)
		}
	}
}
