// Package report turns the measurements of a scenario's arms into what a
// person reads: a comparison table for the terminal (Table), report.md
// (WriteMarkdown), report.json (WriteJSON), a JUnit file for CI (WriteJUnit)
// and three charts drawn as SVG by hand (LeadershipSVG, LeaderTermSVG,
// FsyncSVG). Write puts them all in one directory.
//
// A Report holds one Arm per configuration compared (for slow-disk: ssd,
// hdd, hdd-tuned; any number and any names work). Arm is measure.Arm, the
// one result model, which measure fills: every format renders that type,
// and report.json is the judged Report (Judge) marshalled as it is. Stable,
// Verdict, Leadership and DiskFitness are the pure rules that judge an arm;
// they are the same rules the end-to-end test asserts from report.json.
//
// Everything rendered is deterministic for a given Report, so the golden
// files in testdata/ pin each document (go test -update rewrites them).
package report
