//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"

	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/tunnel"
	"github.com/kthw-lab/lab/lab/tunnel/tunneltest"
)

// The remote lab: its own name and subnet.
const (
	remoteLab    = "remote"
	remoteSubnet = "192.168.195.0/24"
)

// TestRemote runs a one-node lab on a "remote" libvirt host: this machine's
// own libvirtd, reached only through an in-process SSH server on loopback
// that serves the daemon's socket (direct-streamlocal) and the lab's
// addresses (direct-tcpip). The counts of the channels it carried show that
// libvirt, SSH and etcd all went through the tunnel.
func TestRemote(t *testing.T) {
	lv := connectLibvirt(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
	defer cancel()
	t.Setenv("SSH_AUTH_SOCK", "")

	srv := tunneltest.Start(t)
	dir := t.TempDir()
	key, hosts := filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "known_hosts")
	srv.WriteClientKey(t, key)
	srv.WriteKnownHosts(t, hosts)
	uri := srv.URI("root", "/system", key, hosts)
	state := t.TempDir()
	run := func(ctx context.Context, args ...string) (string, error) {
		return runLabNamed(t, ctx, remoteLab, state, append([]string{"--connect=" + uri}, args...)...)
	}
	t.Cleanup(func() {
		if out, err := run(context.Background(), "destroy"); err != nil {
			t.Errorf("cleanup destroy: %v\n%s", err, out)
		}
	})

	// An unknown host key is refused before anything is made.
	otherHosts := filepath.Join(dir, "empty_known_hosts")
	if err := os.WriteFile(otherHosts, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runLabNamed(t, ctx, remoteLab, state, "--connect="+srv.URI("root", "/system", key, otherHosts), "destroy")
	if err == nil {
		t.Fatalf("lab destroy with an unknown host key succeeded:\n%s", out)
	}
	if n := srv.Count(tunneltest.StreamLocal) + srv.Count(tunneltest.TCP); n != 0 {
		t.Fatalf("the server carried %d channels for a client that does not know its key", n)
	}

	// The doctor asks the remote libvirt through the tunnel.
	out, err = run(ctx, "doctor")
	if err != nil || !strings.Contains(out, " over SSH (libvirt ") || !strings.Contains(out, "remote host") {
		t.Fatalf("lab doctor over the tunnel: %v\n%s", err, out)
	}
	if n := srv.Count(tunneltest.StreamLocal); n == 0 {
		t.Fatalf("lab doctor did not ask libvirt through the tunnel")
	}

	start := time.Now()
	out, err = run(ctx, "create", "--nodes", "1", "--accel", "tcg", "--cpus", "1", "--memory", "768", "--subnet", remoteSubnet)
	if err != nil {
		t.Fatalf("lab create: %v\n%s", err, out)
	}
	t.Logf("lab create over the tunnel took %s", time.Since(start).Round(time.Second))
	if !strings.Contains(out, "k8smaster0") || !strings.Contains(out, "started") {
		t.Fatalf("create's member table lacks k8smaster0 started:\n%s", out)
	}
	libvirtChans, tcpChans := srv.Count(tunneltest.StreamLocal), srv.Count(tunneltest.TCP)
	t.Logf("create: the tunnel carried %d libvirt and %d TCP channels", libvirtChans, tcpChans)
	if libvirtChans == 0 || tcpChans == 0 {
		t.Fatalf("create did not go through the tunnel: %d libvirt and %d TCP channels", libvirtChans, tcpChans)
	}
	checkRemoteVolumes(t, lv)
	// The subnet check reads the remote host's routes, over an exec session.
	if n := srv.Count(tunneltest.Session); n == 0 {
		t.Errorf("create did not read the remote host's routes (no exec session)")
	}

	out, err = run(ctx, "--output", "json", "status")
	if err != nil {
		t.Fatalf("lab status: %v\n%s", err, out)
	}
	var rep lab.Overview
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("lab status JSON: %v\n%s", err, out)
	}
	if len(rep.Nodes) != 1 || rep.Nodes[0].State != "running" || !rep.Nodes[0].Healthy || !rep.Nodes[0].Leader {
		t.Fatalf("lab status = %+v, want one running, healthy leader", rep.Nodes)
	}

	out, err = run(ctx, "ssh", "k8smaster0", "--", "systemctl", "is-active", "etcd")
	if err != nil || strings.TrimSpace(out) != "active" {
		t.Fatalf("lab ssh k8smaster0 -- systemctl is-active etcd = %q, %v", out, err)
	}

	// etcd over mTLS with the lab's certificates, dialled through a tunnel
	// of this test's own.
	before := srv.Count(tunneltest.TCP)
	remoteEtcd(t, ctx, run, uri)
	if srv.Count(tunneltest.TCP) <= before {
		t.Fatal("the etcd client did not go through the tunnel")
	}
	t.Logf("in all: the tunnel carried %d libvirt and %d TCP channels", srv.Count(tunneltest.StreamLocal), srv.Count(tunneltest.TCP))

	start = time.Now()
	if out, err := run(ctx, "destroy"); err != nil {
		t.Fatalf("lab destroy: %v\n%s", err, out)
	}
	t.Logf("lab destroy took %s", time.Since(start).Round(time.Second))
	assertNothingLeft(t, lv, remoteLab)
}

// remoteEtcd puts and gets a key over mTLS through the tunnel.
func remoteEtcd(t *testing.T, ctx context.Context, run func(context.Context, ...string) (string, error), uri string) {
	t.Helper()
	envOut, err := run(ctx, "--output", "json", "env")
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]string
	if err := json.Unmarshal([]byte(envOut), &env); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(env["ETCDCTL_CACERT"])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	pair, err := tls.LoadX509KeyPair(env["ETCDCTL_CERT"], env["ETCDCTL_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	tg, err := tunnel.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	tun := tunnel.New(tg)
	defer tun.Close()
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(env["ETCDCTL_ENDPOINTS"], ","),
		TLS:         &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12},
		DialTimeout: 20 * time.Second,
		DialOptions: []grpc.DialOption{grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return tun.DialContext(ctx, "tcp", addr)
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.Put(rctx, "/e2e/remote", "through the tunnel"); err != nil {
		t.Fatalf("put over mTLS through the tunnel: %v", err)
	}
	resp, err := c.Get(rctx, "/e2e/remote")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "through the tunnel" {
		t.Fatalf("get over mTLS through the tunnel: %v %v", resp, err)
	}
}

// checkRemoteVolumes checks that the base image, kernel and initrd were
// uploaded into the lab's ssd pool.
func checkRemoteVolumes(t *testing.T, lv *libvirt.Libvirt) {
	t.Helper()
	pool, err := lv.StoragePoolLookupByName(remoteLab + "-ssd")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"remote-base.qcow2", "remote-vmlinuz", "remote-initrd.img"} {
		if _, err := lv.StorageVolLookupByName(pool, name); err != nil {
			t.Errorf("volume %s in pool %s: %v", name, pool.Name, err)
		}
	}
}
