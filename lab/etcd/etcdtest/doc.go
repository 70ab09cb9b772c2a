// Package etcdtest starts real etcd clusters inside a test process: the
// embedded etcd server, several members on 127.0.0.1 with mutual TLS for
// clients and peers, like the lab's nodes. It lets the etcd-facing code
// (clientv3 over mTLS, quorum checks, check perf, metrics) be tested in
// seconds without VMs.
package etcdtest
