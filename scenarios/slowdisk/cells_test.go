package slowdisk

import (
	"strings"
	"testing"
	"time"
)

// A cell whose etcd was not given fails before the lab is touched (the
// runner here has no lab: touching it would panic).
func TestSessionRefusesACellWithoutItsEtcd(t *testing.T) {
	s := &Session{r: &runner{Options: Options{EtcdBinaries: map[string]EtcdBinary{"v3.5.17": {}}}}}
	_, err := s.Run(t.Context(), CellSpec{Name: "c", Fsync: time.Second, Heartbeat: 100 * time.Millisecond,
		Election: time.Second, EtcdVersion: "v3.4.23", Duration: 30 * time.Second}, 0)
	if err == nil || !strings.Contains(err.Error(), "etcd v3.4.23") {
		t.Errorf("error %v, want one naming the missing etcd", err)
	}
}
