// Package etcdtest starts real etcd clusters inside a test process: the
// embedded etcd server, several members on 127.0.0.1 with mutual TLS for
// clients and peers, like the lab's nodes. It lets the etcd-facing code
// (clientv3 over mTLS, quorum checks, check perf, metrics) be tested in
// seconds without VMs.
//
// It is the root of a nested module (go.mod here) because the embedded
// server and etcdctl pull about 60 modules that the lab binary does not
// link; the main module must not require them. The tests that need them
// live beside it, as external tests of the packages they test: etcd/ for
// lab/etcd (the cluster checks, check perf, etcdctl's member table and
// loads, etcd's flag parser and configuration check) and measure/ for
// scenarios/measure (/metrics over mutual TLS; a package of its own because
// etcd's metrics are per process). `make unit` runs them.
package etcdtest
