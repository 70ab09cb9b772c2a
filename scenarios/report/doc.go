// Package report turns the measurements of a scenario's arms into what a
// person reads: a comparison table for the terminal (Table), report.md
// (WriteMarkdown), report.json (WriteJSON), a JUnit file for CI (WriteJUnit)
// and two charts drawn as SVG by hand (LeaderTermSVG, FsyncSVG). Write puts
// them all in one directory.
//
// A Report holds one Arm per configuration compared (for slow-disk: ssd,
// hdd, hdd-tuned; any number and any names work). The package only reads
// what it is given: the scenario runner measures, converts to these types,
// and calls in. Stable and Verdict are the pure rules that judge an arm;
// they are the same rules the end-to-end test asserts from report.json.
//
// Everything rendered is deterministic for a given Report, so the golden
// files in testdata/ pin each document (go test -update rewrites them).
package report
