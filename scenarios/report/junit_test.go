package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

func TestJUnitFailsUnmetExpectations(t *testing.T) {
	r := story()
	r.Arms[1].Expect = OutcomeStable // hdd expected to hold: it does not
	r.Arms[0].Expect = ""            // ssd expects nothing: passes whatever it did
	r.Arms[0].LeaderChanges = 3

	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("junit is not XML: %v\n%s", err, b.Bytes())
	}
	if doc.Failures != 1 || len(doc.Suites) != 1 || doc.Suites[0].Failures != 1 || doc.Suites[0].Tests != 3 {
		t.Fatalf("failures = %d, suite = %+v; want one suite of 3 cases with 1 failure", doc.Failures, doc.Suites)
	}
	for _, c := range doc.Suites[0].Cases {
		failed := c.Failure != nil
		if failed != (c.Name == "hdd") {
			t.Errorf("case %s failed = %v, want only hdd to fail", c.Name, failed)
		}
		if failed && (c.Failure.Message != "expected stable, got unstable" || !strings.HasPrefix(c.Failure.Text, "unstable:")) {
			t.Errorf("hdd failure = %+v, want the expectation and the verdict", c.Failure)
		}
	}
}
