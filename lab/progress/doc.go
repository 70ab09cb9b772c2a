// Package progress reports long-running steps to a person: a start line, an
// end line with the elapsed time, and byte counters that draw a bar on a
// terminal and print plain periodic lines elsewhere (CI logs, pipes).
//
// The library packages take a *Status instead of printing, so the CLI decides
// where the lines go and whether they are drawn or quiet.
package progress
