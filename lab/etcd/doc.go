// Package etcd is everything the lab knows about etcd.
//
// Unit renders the systemd unit of the story (etcd.service from Kubernetes
// the hard way) for one member, with that node's name, addresses and raft
// timing, validated as etcd would validate it.
//
// The client side talks to the running cluster over mutual TLS through
// clientv3: Members (a MemberList, whose WriteTable prints it exactly as
// `etcdctl member list -w table` does), EndpointStatus (leader, raft term,
// version, database size per endpoint), Health (as `etcdctl endpoint health` judges it) and
// Quorum, the check `lab create` waits for through QuorumCondition: every
// expected member started, one leader agreed by every endpoint, and a probe
// key written, read back and deleted.
//
// CheckPerf is `etcdctl check perf` through clientv3: the same loads, rate
// limits and pass rules (throughput at least 90 % of the target, slowest
// request at most 0.5 s, stddev at most 0.1 s, no errors).
//
// Directory etcdtest is a module of its own: it starts real embedded
// clusters with mutual TLS and holds the tests of this package that need
// etcd's server or etcdctl, so this module never requires them.
package etcd
