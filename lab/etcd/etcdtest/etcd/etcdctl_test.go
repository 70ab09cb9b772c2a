package etcd_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/etcdctl/v3/ctlv3/command"

	"github.com/kthw-lab/lab/lab/etcd"
)

// TestPerfLoadsAreEtcdctls reads etcdctl's own check.go from the module
// cache, at the version go.mod pins, so the table cannot drift from it.
func TestPerfLoadsAreEtcdctls(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "list", "-m", "-f", "{{.Dir}}", "go.etcd.io/etcd/etcdctl/v3").Output()
	if err != nil {
		t.Fatalf("locating etcdctl's module: %v", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "ctlv3", "command", "check.go")
	f, err := parser.ParseFile(token.NewFileSet(), src, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []etcd.PerfLoad
	ksize, vsize := 0, 0
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			// check datascale has sizes of its own.
			return n.Name.Name == "newCheckPerfCommand"
		case *ast.ValueSpec:
			if n.Names[0].Name != "checkPerfCfgMap" {
				return true
			}
			for _, e := range n.Values[0].(*ast.CompositeLit).Elts {
				kv := e.(*ast.KeyValueExpr)
				name, _ := strconv.Unquote(kv.Key.(*ast.BasicLit).Value)
				fields := map[string]int{}
				for _, fe := range kv.Value.(*ast.CompositeLit).Elts {
					fkv := fe.(*ast.KeyValueExpr)
					fields[fkv.Key.(*ast.Ident).Name], _ = strconv.Atoi(fkv.Value.(*ast.BasicLit).Value)
				}
				want = append(want, etcd.PerfLoad{Name: name, Limit: fields["limit"], Clients: fields["clients"], Duration: time.Duration(fields["duration"]) * time.Second})
			}
		case *ast.AssignStmt:
			if len(n.Lhs) == 2 && n.Lhs[0].(*ast.Ident).Name == "ksize" && n.Lhs[1].(*ast.Ident).Name == "vsize" {
				ksize, _ = strconv.Atoi(n.Rhs[0].(*ast.BasicLit).Value)
				vsize, _ = strconv.Atoi(n.Rhs[1].(*ast.BasicLit).Value)
			}
		}
		return true
	})
	if len(want) == 0 || ksize == 0 || vsize == 0 {
		t.Fatalf("did not find checkPerfCfgMap and ksize, vsize in %s", src)
	}
	for i := range want {
		want[i].KeySize, want[i].ValueSize = ksize, vsize
	}
	got := etcd.PerfLoads()
	byName := func(a, b etcd.PerfLoad) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(want, byName)
	slices.SortFunc(got, byName)
	if !slices.Equal(got, want) {
		t.Fatalf("PerfLoads() = %+v\netcdctl (%s) = %+v", got, src, want)
	}
	// And the numbers as read by hand from etcdctl v3.6.16, in case the
	// parse above ever finds nothing to compare.
	s, _ := etcd.LookupPerfLoad("s")
	if s != (etcd.PerfLoad{Name: "s", Clients: 50, Limit: 150, KeySize: 256, ValueSize: 1024, Duration: time.Minute}) {
		t.Fatalf("load s = %+v", s)
	}
}

// labMembers is what a healthy three-node lab lists, plus a member being
// added (unstarted, no name) and a learner, to cover every column: the
// members of lab/etcd's member-table.golden, whose text etcdctl must print
// the same way.
func labMembers() etcd.MemberList {
	return etcd.MemberList{
		{ID: 0x8e9e05c52164694d, Name: "k8smaster0", Status: etcd.MemberStarted,
			PeerURLs: []string{"https://192.168.199.200:2380"}, ClientURLs: []string{"https://192.168.199.200:2379"}},
		{ID: 0x2f7a4c1b0d3e5f60, Name: "k8smaster1", Status: etcd.MemberStarted,
			PeerURLs: []string{"https://192.168.199.201:2380"}, ClientURLs: []string{"https://192.168.199.201:2379", "https://127.0.0.1:2379"}},
		{ID: 0xa1b2c3d4e5f60718, Name: "k8smaster2", Status: etcd.MemberStarted,
			PeerURLs: []string{"https://192.168.199.202:2380"}, ClientURLs: []string{"https://192.168.199.202:2379"}},
		{ID: 0x1c, Status: etcd.MemberUnstarted, PeerURLs: []string{"https://192.168.199.203:2380"}},
		{ID: 0x5d4c3b2a19087f6e, Name: "k8smaster4", Status: etcd.MemberStarted, IsLearner: true,
			PeerURLs: []string{"https://192.168.199.204:2380"}, ClientURLs: []string{"https://192.168.199.204:2379"}},
	}
}

// asResponse is the clientv3 response etcdctl would have printed members from.
func asResponse(members []etcd.Member) clientv3.MemberListResponse {
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

func TestMemberTableIsEtcdctls(t *testing.T) {
	var buf bytes.Buffer
	if err := labMembers().WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	if want := etcdctlTable(t, asResponse(labMembers())); buf.String() != want {
		t.Errorf("member table:\n%s\netcdctl prints:\n%s", buf.String(), want)
	}
}
