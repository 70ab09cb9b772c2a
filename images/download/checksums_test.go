package download

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseChecksums(t *testing.T) {
	d256 := strings.Repeat("ab", 32)
	d512 := strings.Repeat("CD", 64)
	in := "# comment\n" +
		d256 + "  debian-12-genericcloud-amd64.qcow2\n" +
		"\n" +
		d256 + " *noble-server-cloudimg-amd64.img\r\n" +
		d512 + "  name with spaces.tar.xz\n"
	got, err := ParseChecksums(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"debian-12-genericcloud-amd64.qcow2": d256,
		"noble-server-cloudimg-amd64.img":    d256,
		"name with spaces.tar.xz":            strings.ToLower(d512),
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
}

func TestParseChecksumsRejects(t *testing.T) {
	for name, in := range map[string]string{
		"html page":    "<html><body>Not here</body></html>\n",
		"short digest": "abcd  file\n",
		"no name":      strings.Repeat("ab", 32) + "  \n",
		"one space":    strings.Repeat("ab", 32) + " file\n",
		"empty":        "\n# nothing\n",
	} {
		if _, err := ParseChecksums(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestFetchChecksums(t *testing.T) {
	d := strings.Repeat("01", 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/SHA512SUMS" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(d + "  a.qcow2\n"))
	}))
	defer srv.Close()
	sums, err := FetchChecksums(t.Context(), srv.Client(), srv.URL+"/SHA512SUMS")
	if err != nil {
		t.Fatal(err)
	}
	if sums["a.qcow2"] != d {
		t.Fatalf("sums = %v", sums)
	}
	_, err = FetchChecksums(t.Context(), nil, srv.URL+"/SHA256SUMS")
	if err == nil || !strings.Contains(err.Error(), "404 Not Found") || !strings.Contains(err.Error(), srv.URL+"/SHA256SUMS") {
		t.Fatalf("err = %v, want a 404 naming the URL", err)
	}
}
