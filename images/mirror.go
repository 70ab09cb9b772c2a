package images

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// aptSource is one "deb" source from the host's apt configuration.
type aptSource struct {
	URI        string
	Suites     []string
	Components []string
}

// HostMirror returns the first Debian mirror in the host's apt sources
// (/etc/apt/sources.list, then /etc/apt/sources.list.d/*.list and *.sources
// in name order) that serves suite with the main component. Matching the
// suite exactly skips the security and updates archives and third-party
// repositories without naming any host.
func HostMirror(fsys fs.FS, suite string) (string, error) {
	sources, err := readAptSources(fsys)
	if err != nil {
		return "", err
	}
	for _, s := range sources {
		if slices.Contains(s.Suites, suite) && slices.Contains(s.Components, "main") && usableURI(s.URI) {
			return s.URI, nil
		}
	}
	return "", fmt.Errorf("no apt source in /etc/apt/sources.list or /etc/apt/sources.list.d serves %q with component main: give a Debian mirror URL explicitly (lab image build --mirror URL)", suite)
}

// DebianMirror is Debian's own redirector, used when the host's apt
// sources serve no Debian suite: an Ubuntu host, a GitHub runner.
const DebianMirror = "http://deb.debian.org/debian"

// ChooseMirror is the mirror to debootstrap suite from, and why: the
// host's own mirror when its apt sources serve the suite (fast, and
// reachable where only it is), else Debian's.
func ChooseMirror(fsys fs.FS, suite string) (mirror, why string) {
	m, err := HostMirror(fsys, suite)
	if err == nil {
		return m, "the host's apt sources serve " + suite
	}
	return DebianMirror, fmt.Sprintf("the host's apt sources do not serve %s (an Ubuntu or non-Debian host): using Debian's own mirror; --mirror URL picks another", suite)
}

// usableURI tells whether debootstrap can fetch from the URI.
func usableURI(uri string) bool {
	return strings.HasPrefix(uri, "http://") || strings.HasPrefix(uri, "https://") || strings.HasPrefix(uri, "file:/")
}

// readAptSources reads etc/apt in fsys (rooted at /) in the order apt does.
func readAptSources(fsys fs.FS) ([]aptSource, error) {
	var sources []aptSource
	data, err := fs.ReadFile(fsys, "etc/apt/sources.list")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading apt sources: %w", err)
	}
	sources = append(sources, parseOneLine(string(data))...)
	names, err := fs.ReadDir(fsys, "etc/apt/sources.list.d")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading apt sources: %w", err)
	}
	for _, n := range names { // ReadDir sorts by name
		ext := path.Ext(n.Name())
		if n.IsDir() || (ext != ".list" && ext != ".sources") {
			continue
		}
		data, err := fs.ReadFile(fsys, path.Join("etc/apt/sources.list.d", n.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading apt sources: %w", err)
		}
		if ext == ".list" {
			sources = append(sources, parseOneLine(string(data))...)
		} else {
			sources = append(sources, parseDeb822(string(data))...)
		}
	}
	return sources, nil
}

// parseOneLine parses the classic format:
// "deb [option=value ...] URI SUITE COMPONENT...".
func parseOneLine(text string) []aptSource {
	var sources []aptSource
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[0] != "deb" {
			continue
		}
		fields = fields[1:]
		if strings.HasPrefix(fields[0], "[") {
			for len(fields) > 0 && !strings.HasSuffix(fields[0], "]") {
				fields = fields[1:]
			}
			if len(fields) == 0 {
				continue
			}
			fields = fields[1:]
		}
		if len(fields) < 2 {
			continue
		}
		sources = append(sources, aptSource{URI: fields[0], Suites: fields[1:2], Components: fields[2:]})
	}
	return sources
}

// parseDeb822 parses the deb822 format: paragraphs of "Field: value"
// separated by blank lines, one source per URI.
func parseDeb822(text string) []aptSource {
	var sources []aptSource
	for _, para := range deb822Paragraphs(text) {
		if strings.EqualFold(para["enabled"], "no") || !slices.Contains(strings.Fields(para["types"]), "deb") {
			continue
		}
		for _, uri := range strings.Fields(para["uris"]) {
			sources = append(sources, aptSource{
				URI:        uri,
				Suites:     strings.Fields(para["suites"]),
				Components: strings.Fields(para["components"]),
			})
		}
	}
	return sources
}

// deb822Paragraphs splits text into paragraphs of lower-cased field names
// to values, joining continuation lines.
func deb822Paragraphs(text string) []map[string]string {
	var paras []map[string]string
	cur := map[string]string{}
	last := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
			continue
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				paras = append(paras, cur)
				cur, last = map[string]string{}, ""
			}
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur[last] += " " + strings.TrimSpace(line)
			}
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(name))
			cur[last] = strings.TrimSpace(value)
		}
	}
	if len(cur) > 0 {
		paras = append(paras, cur)
	}
	return paras
}
