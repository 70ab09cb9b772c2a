// Package measure takes the measurements of one arm of an experiment: each
// member's /metrics (leader changes, heartbeat send failures, failed
// proposals, WAL fsync and backend commit latency, peer round trips) as
// deltas over the arm's window, the raft term and leader every member reports
// over time, the latency and errors of a steady put workload, and the etcd
// journal lines that tell the slow-disk story, in the formats of etcd 3.4
// and of 3.5 and later.
//
// Nothing here knows about VMs: the caller passes an *http.Client for
// /metrics, a status function, a put function and journal text, so the lab
// wires it to its nodes and the tests to captured text and fakes. Every
// time is relative to the arm's start.
//
// Arm is the one result model of an arm: Observation.Result fills its
// figures, each in the window of its phase (bootstrap, observation, check
// perf), and report renders it in every format; report.json is Arm
// marshalled as it is. A figure that does not exist is None (a Term of 0),
// written null.
package measure
