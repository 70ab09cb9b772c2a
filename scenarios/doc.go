// Package scenarios lists the experiments lab can run on a lab. Each
// experiment lives in its own sub-package (slowdisk), shaped like etcd's
// robustness tests: a scenario has arms; an arm is a cluster configuration
// plus a fault plus a workload; every measurement carries its time relative
// to the arm's start, and the evidence is kept on disk. The measurements are
// in scenarios/measure, the comparison in scenarios/report.
package scenarios

// Scenario describes an experiment for `lab scenario list`.
type Scenario struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Arms        []Arm  `json:"arms"`
}

// Arm describes one arm of a scenario.
type Arm struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Expect is the outcome the arm is meant to show: "stable" or
	// "unstable"; empty for none.
	Expect string `json:"expect,omitempty"`
}
