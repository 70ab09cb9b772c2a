package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as a JUnit XML file for CI: one test case
// per arm, failed when the arm's Outcome differs from its Expect (an arm
// without an expectation passes; an arm without results fails as an error).
// Each case carries the arm's verdict.
func WriteJUnit(w io.Writer, r Report) error {
	name := r.Scenario
	if name == "" {
		name = "scenario"
	}
	suite := junitSuite{
		Name:  name,
		Tests: len(r.Arms),
		Time:  junitSeconds(r.Duration.Seconds() * float64(len(r.Arms))),
	}
	if !r.Started.IsZero() {
		suite.Timestamp = r.Started.Format("2006-01-02T15:04:05Z07:00")
	}
	for _, p := range []junitProperty{{"host", r.Host}, {"etcd_version", r.EtcdVersion}} {
		if p.Value != "" {
			suite.Properties = append(suite.Properties, p)
		}
	}
	for _, a := range r.Arms {
		c := junitCase{
			Name:      a.Name,
			ClassName: name,
			Time:      junitSeconds(r.Duration.Seconds()),
			SystemOut: Verdict(a),
		}
		if got := Outcome(a); a.Expect != "" && got != a.Expect {
			suite.Failures++
			c.Failure = &junitFailure{
				Message: fmt.Sprintf("expected %s, got %s", a.Expect, got),
				Type:    "outcome",
				Text:    Verdict(a),
			}
		}
		suite.Cases = append(suite.Cases, c)
	}
	// An arm without results is an error of the run, not a finding.
	for _, m := range r.Missing {
		suite.Tests++
		suite.Errors++
		suite.Cases = append(suite.Cases, junitCase{Name: m.Name, ClassName: name, Time: junitSeconds(0),
			Failure: &junitFailure{Message: "no results: " + m.Reason, Type: "missing", Text: m.Reason}})
	}
	doc := junitSuites{Name: name, Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding junit report: %w", err)
	}
	if _, err := fmt.Fprintf(w, "%s%s\n", xml.Header, out); err != nil {
		return fmt.Errorf("writing junit report: %w", err)
	}
	return nil
}

func junitSeconds(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) }
