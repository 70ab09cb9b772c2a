package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/kthw-lab/lab/lab/atomicfile"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/virt"
)

// ExportFile is one file an export wrote, or the reason it could not.
type ExportFile struct {
	File  string `json:"file"`
	Bytes int    `json:"bytes"`
	Error string `json:"error,omitempty"`
}

// Exported is what Export wrote into Dir.
type Exported struct {
	Dir   string       `json:"dir"`
	Files []ExportFile `json:"files"`
}

// Failed counts the files that could not be written.
func (e *Exported) Failed() int {
	n := 0
	for _, f := range e.Files {
		if f.Error != "" {
			n++
		}
	}
	return n
}

// nodeCommands are what Export asks every node, by the file it writes.
// Each is read-only and needs root only to read the logs.
var nodeCommands = []struct{ file, script string }{
	{"journal-etcd.log", "journalctl -u etcd --no-pager -o short-iso-precise"},
	{"systemctl-status-etcd.txt", "systemctl status etcd --no-pager --full || true"},
	{"cloud-init-status.txt", "cloud-init status --long || true"},
	{"cloud-init.log", "cat /var/log/cloud-init.log"},
	{"cloud-init-output.log", "cat /var/log/cloud-init-output.log"},
	{"systemctl-failed.txt", "systemctl --failed --no-pager"},
}

// Export writes everything needed to debug the lab into dir, as kind
// export logs does: the state (which holds no secret: keys stay in the
// PKI directory), the network's and every domain's XML, the console logs,
// each node's etcd journal, cloud-init logs and status, systemctl's view
// of etcd, and the member table. A part that cannot be had (a node down, a
// cluster without a leader) is recorded with its reason and the rest is
// still written: an export is wanted most when something is broken.
func (l *Lab) Export(ctx context.Context, dir string) (*Exported, error) {
	st := l.State
	p, err := l.Libvirt(ctx)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.MkdirPrivate(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the export directory: %w", err)
	}
	x := &exporter{out: &Exported{Dir: dir}, dir: dir}
	stateJSON, err := json.MarshalIndent(st, "", "  ")
	x.write("state.json", append(stateJSON, '\n'), err)
	x.libvirt(ctx, st, p)
	for _, n := range st.Plan.Nodes {
		b, err := os.ReadFile(l.Store.ConsoleLog(n.Name))
		x.write(filepath.Join(n.Name, "console.log"), b, err)
	}
	if _, err := l.Keys(); err != nil {
		return x.out, err
	}
	x.nodes(ctx, l)
	x.members(ctx, l)
	return x.out, nil
}

type exporter struct {
	mu  sync.Mutex
	out *Exported
	dir string
}

// write records one file: data when err is nil, else the reason.
func (x *exporter) write(name string, data []byte, err error) {
	if err == nil {
		if bytes.Contains(data, []byte("PRIVATE KEY")) {
			err = errors.New("holds a private key: not exported")
		} else {
			path := filepath.Join(x.dir, name)
			if err = os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
				err = atomicfile.Write(path, data, 0o600)
			}
		}
	}
	f := ExportFile{File: name, Bytes: len(data)}
	if err != nil {
		f = ExportFile{File: name, Error: err.Error()}
	}
	x.mu.Lock()
	x.out.Files = append(x.out.Files, f)
	x.mu.Unlock()
}

func (x *exporter) libvirt(ctx context.Context, st *State, p *virt.Provider) {
	for _, r := range st.Resources {
		if r.Kind == KindNetwork {
			doc, err := p.NetworkXMLDesc(ctx, r.Name)
			x.write("network-"+r.Name+".xml", []byte(doc), err)
		}
	}
	for _, n := range st.Plan.Nodes {
		doc, err := p.DomainXMLDesc(ctx, n.Domain)
		x.write(filepath.Join(n.Name, "domain.xml"), []byte(doc), err)
	}
}

// nodes asks every node its logs over SSH, in parallel.
func (x *exporter) nodes(ctx context.Context, l *Lab) {
	eachNode(l.State.Plan.Nodes, func(n spec.Node) error {
		for _, c := range nodeCommands {
			out, err := l.RunAsRoot(ctx, n, c.script)
			x.write(filepath.Join(n.Name, c.file), []byte(out), err)
			if err != nil && ctx.Err() == nil && strings.Contains(err.Error(), "dialing ssh") {
				// The node does not answer: the other commands would
				// only repeat the wait.
				return nil
			}
		}
		return nil
	})
}

func (x *exporter) members(ctx context.Context, l *Lab) {
	var buf bytes.Buffer
	members, err := l.Members(ctx)
	if err == nil {
		err = members.WriteTable(&buf)
	}
	x.write("members.txt", buf.Bytes(), err)
}
