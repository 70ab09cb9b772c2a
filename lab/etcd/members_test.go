package etcd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/kthw-lab/lab/internal/golden"
)

// labMembers is what a healthy three-node lab lists, plus a member being
// added (unstarted, no name) and a learner, to cover every column.
func labMembers() MemberList {
	return MemberList{
		{ID: 0x8e9e05c52164694d, Name: "k8smaster0", Status: MemberStarted,
			PeerURLs: []string{"https://192.168.199.200:2380"}, ClientURLs: []string{"https://192.168.199.200:2379"}},
		{ID: 0x2f7a4c1b0d3e5f60, Name: "k8smaster1", Status: MemberStarted,
			PeerURLs: []string{"https://192.168.199.201:2380"}, ClientURLs: []string{"https://192.168.199.201:2379", "https://127.0.0.1:2379"}},
		{ID: 0xa1b2c3d4e5f60718, Name: "k8smaster2", Status: MemberStarted,
			PeerURLs: []string{"https://192.168.199.202:2380"}, ClientURLs: []string{"https://192.168.199.202:2379"}},
		{ID: 0x1c, Status: MemberUnstarted, PeerURLs: []string{"https://192.168.199.203:2380"}},
		{ID: 0x5d4c3b2a19087f6e, Name: "k8smaster4", Status: MemberStarted, IsLearner: true,
			PeerURLs: []string{"https://192.168.199.204:2380"}, ClientURLs: []string{"https://192.168.199.204:2379"}},
	}
}

func TestMemberTableGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := labMembers().WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "member-table.golden"), buf.Bytes())
}

func TestMemberTableWriteError(t *testing.T) {
	if err := labMembers().WriteTable(failingWriter{}); err == nil {
		t.Fatal("WriteTable ignored a write error")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestMemberIDText(t *testing.T) {
	id := MemberID(0x8e9e05c52164694d)
	b, _ := id.MarshalText()
	if string(b) != "8e9e05c52164694d" || id.String() != "8e9e05c52164694d" {
		t.Fatalf("MemberID text = %q", b)
	}
	var back MemberID
	if err := back.UnmarshalText(b); err != nil || back != id {
		t.Fatalf("UnmarshalText = %v, %v", back, err)
	}
	if err := back.UnmarshalText([]byte("xyz")); err == nil {
		t.Fatal("UnmarshalText accepted a non-hex ID")
	}
}

// TestMemberListJSON: no members and no URLs are [], not null.
func TestMemberListJSON(t *testing.T) {
	b, err := json.Marshal(MemberList(nil))
	if err != nil || string(b) != "[]" {
		t.Fatalf("no members: %s, %v", b, err)
	}
	b, err = json.Marshal(MemberList{{ID: 0x1c, Status: MemberUnstarted}})
	want := `[{"id":"1c","name":"","peer_urls":[],"client_urls":[],"status":"unstarted","is_learner":false}]`
	if err != nil || string(b) != want {
		t.Fatalf("unstarted member: %s, %v; want %s", b, err, want)
	}
}
