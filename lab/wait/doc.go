// Package wait waits for named conditions with deadlines: "ssh on
// k8smaster1", "etcd quorum". A Condition is a name and a check; Until polls
// the check until it passes, reporting a start line, an occasional "still
// waiting" line with the last error, and an end line with the elapsed time,
// and on timeout returns an error that names the condition and carries the
// last error seen, so a failed wait says what it was waiting for and why it
// never came.
package wait
