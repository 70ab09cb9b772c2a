package scenarios

import "github.com/kthw-lab/lab/scenarios/slowdisk"

// List is every scenario lab can run, for `lab scenario list`.
func List() []Scenario {
	s := Scenario{Name: slowdisk.Name, Description: slowdisk.Summary}
	for _, a := range slowdisk.AllArms() {
		s.Arms = append(s.Arms, Arm{Name: a.Name, Description: a.Explain(), Expect: a.Expect})
	}
	return []Scenario{s}
}
