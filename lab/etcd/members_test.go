package etcd

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/etcdctl/v3/ctlv3/command"
)

// Declared as a package variable so unit_test.go's init finds it and shares it.
var updateTable = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// labMembers is what a healthy three-node lab lists, plus a member being
// added (unstarted, no name) and a learner, to cover every column.
func labMembers() []Member {
	return []Member{
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

// asResponse is the clientv3 response etcdctl would have printed members from.
func asResponse(members []Member) clientv3.MemberListResponse {
	var r clientv3.MemberListResponse
	for _, m := range members {
		r.Members = append(r.Members, &pb.Member{ID: uint64(m.ID), Name: m.Name,
			PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner})
	}
	return r
}

// etcdctlTable runs etcdctl's own table printer, which writes to os.Stdout.
func etcdctlTable(t *testing.T, r clientv3.MemberListResponse) string {
	t.Helper()
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(rd)
		out <- b
	}()
	stdout := os.Stdout
	os.Stdout = wr
	func() {
		defer func() { os.Stdout = stdout }()
		command.NewPrinter("table", false).MemberList(r)
	}()
	wr.Close()
	return string(<-out)
}

func TestMemberTableGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := MemberTable(&buf, labMembers()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "member-table.golden")
	if *updateTable {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if buf.String() != string(want) {
		t.Errorf("member table:\n%s\nwant (%s):\n%s", buf.String(), golden, want)
	}
}

func TestMemberTableIsEtcdctls(t *testing.T) {
	var buf bytes.Buffer
	if err := MemberTable(&buf, labMembers()); err != nil {
		t.Fatal(err)
	}
	if want := etcdctlTable(t, asResponse(labMembers())); buf.String() != want {
		t.Errorf("member table:\n%s\netcdctl prints:\n%s", buf.String(), want)
	}
}

func TestMemberTableWriteError(t *testing.T) {
	if err := MemberTable(failingWriter{}, labMembers()); err == nil {
		t.Fatal("MemberTable ignored a write error")
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
