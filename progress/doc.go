// Package progress is lab's one progress implementation. On a terminal each
// running step, wait, download and count is a live line drawn by mpb
// (github.com/vbauerster/mpb/v8) with its elapsed time, and a bar and ETA
// where the total is known; finished steps stay above as one line each, in
// colour unless NO_COLOR is set. Off a terminal (CI logs, pipes) it writes
// one line when a step starts and one when it ends, a plain line every
// 10 % of a transfer, and for a wait that retries (Task) a "still waiting"
// line at most every 30 s with no attempt's error: the error is shown once,
// in the end line, when the wait fails.
//
// The library packages take a *Printer instead of printing, so the CLI decides
// where the lines go and whether they are drawn or quiet.
package progress
