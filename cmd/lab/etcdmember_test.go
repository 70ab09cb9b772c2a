package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab/pki"
)

// etcdtestModule is the nested module that requires etcd's server: the
// main module ships only a client and must not require the server, so a
// test that needs a real member builds etcd from there, at the version it
// pins (the same as the main module's go.etcd.io/etcd/client/v3).
const etcdtestModule = "../../lab/etcd/etcdtest"

// buildEtcd compiles the etcd server into dir. The first build takes about
// a minute; Go's build cache makes later ones take seconds.
func buildEtcd(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "etcd")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "go.etcd.io/etcd/server/v3")
	cmd.Dir = etcdtestModule
	// GOWORK=off: a go.work around the checkout must not change what is built.
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building etcd in %s: %v\n%s", etcdtestModule, err, out)
	}
	return bin
}

// etcdMember is one real etcd process on 127.0.0.1 with the lab's own
// certificates and the unit's mutual-TLS flags.
type etcdMember struct {
	Endpoint string
	// ClientTLS is the lab's client side: the CA and the kubernetes pair.
	ClientTLS *tls.Config
	// PKI is the member's keys, for a lab store that points at it.
	PKI *pki.PKI
}

// startEtcd starts a one-member cluster named name and returns once its
// /health says true. The member is stopped, and its log shown if the test
// failed, by t.Cleanup.
func startEtcd(t *testing.T, name string) etcdMember {
	t.Helper()
	dir := t.TempDir()
	bin := buildEtcd(t, dir)
	p, err := pki.Generate(pki.Request{Lab: "etcdtest", Nodes: []pki.Node{{Name: name, IP: pki.Loopback}}})
	if err != nil {
		t.Fatal(err)
	}
	pkiDir := filepath.Join(dir, "pki")
	if err := p.Write(pkiDir); err != nil {
		t.Fatal(err)
	}
	clientTLS, err := p.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for attempt := range 3 {
		endpoint, err := runEtcd(t, bin, filepath.Join(dir, fmt.Sprint(attempt)), pkiDir, name, clientTLS)
		if err == nil {
			return etcdMember{Endpoint: endpoint, ClientTLS: clientTLS, PKI: p}
		}
		lastErr = err
		// Ports are picked free and then handed to etcd: another process
		// may take one in between.
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("starting etcd member %s: %v", name, lastErr)
	return etcdMember{}
}

func runEtcd(t *testing.T, bin, dir, pkiDir, name string, clientTLS *tls.Config) (string, error) {
	cport, err := freePort()
	if err != nil {
		return "", err
	}
	pport, err := freePort()
	if err != nil {
		return "", err
	}
	client := fmt.Sprintf("https://127.0.0.1:%d", cport)
	peer := fmt.Sprintf("https://127.0.0.1:%d", pport)
	file := func(f string) string { return filepath.Join(pkiDir, f) }
	cmd := exec.Command(bin,
		"--name", name,
		"--cert-file="+file(pki.CertFile), "--key-file="+file(pki.KeyFile),
		"--peer-cert-file="+file(pki.CertFile), "--peer-key-file="+file(pki.KeyFile),
		"--trusted-ca-file="+file(pki.CACertFile), "--peer-trusted-ca-file="+file(pki.CACertFile),
		"--peer-client-cert-auth", "--client-cert-auth",
		"--initial-advertise-peer-urls", peer, "--listen-peer-urls", peer,
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--initial-cluster-token", "etcdtest",
		"--initial-cluster", name+"="+peer, "--initial-cluster-state", "new",
		"--data-dir="+filepath.Join(dir, "data"))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("running %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS}}
	deadline := time.Now().Add(30 * time.Second)
	var lastErr error
	for {
		select {
		case err := <-exited:
			return "", fmt.Errorf("etcd exited: %v: %s", err, tail(log.String()))
		default:
		}
		lastErr = healthy(hc, client+"/health")
		if lastErr == nil {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("etcd not healthy after 30s: %v: %s", lastErr, tail(log.String()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("etcd %s log:\n%s", name, log.String())
		}
	})
	return client, nil
}

// healthy asks etcd's /health, as `etcdctl endpoint health` judges a
// member: true once it has a leader and applies requests.
func healthy(hc *http.Client, url string) error {
	resp, err := hc.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var h struct{ Health string }
	if err := json.Unmarshal(b, &h); err != nil || h.Health != "true" {
		return fmt.Errorf("%s: %s %s", url, resp.Status, b)
	}
	return nil
}

// tail is the end of etcd's log, enough to show why it stopped.
func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
