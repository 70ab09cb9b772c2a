package images

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestHostMirror(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		suite string
		want  string
	}{
		{
			name: "deb822 with security first",
			files: fstest.MapFS{"etc/apt/sources.list.d/debian.sources": {Data: []byte(`Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 -----END PGP PUBLIC KEY BLOCK-----
`)}},
			suite: "bookworm",
			want:  "http://mirror.example/debian",
		},
		{
			name: "one-line sources.list before sources.list.d",
			files: fstest.MapFS{
				"etc/apt/sources.list": {Data: []byte(`# deb cdrom:[Debian GNU/Linux 12]/ bookworm main
deb-src http://src.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] https://one.example/debian/ bookworm main non-free-firmware
`)},
				"etc/apt/sources.list.d/a.sources": {Data: []byte("Types: deb\nURIs: http://two.example/debian\nSuites: bookworm\nComponents: main\n")},
			},
			suite: "bookworm",
			want:  "https://one.example/debian/",
		},
		{
			name: "disabled entries and files are skipped",
			files: fstest.MapFS{
				"etc/apt/sources.list.d/a.sources":              {Data: []byte("Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\n")},
				"etc/apt/sources.list.d/b.list.disabled-by-ops": {Data: []byte("deb http://off2.example/debian bookworm main\n")},
				"etc/apt/sources.list.d/c.list":                 {Data: []byte("deb http://third.example/apt cloud-sdk main\ndeb http://on.example/debian bookworm main\n")},
			},
			suite: "bookworm",
			want:  "http://on.example/debian",
		},
		{
			name: "component main is required",
			files: fstest.MapFS{
				"etc/apt/sources.list": {Data: []byte("deb http://nf.example/debian bookworm non-free\ndeb http://main.example/debian bookworm main\n")},
			},
			suite: "bookworm",
			want:  "http://main.example/debian",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := HostMirror(tc.files, tc.suite)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("HostMirror = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHostMirrorNone(t *testing.T) {
	files := fstest.MapFS{"etc/apt/sources.list": {Data: []byte("deb http://archive.example/ubuntu noble main\n")}}
	_, err := HostMirror(files, "bookworm")
	if err == nil || !strings.Contains(err.Error(), `serves "bookworm"`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := HostMirror(fstest.MapFS{}, "bookworm"); err == nil {
		t.Fatal("no apt configuration at all gave a mirror")
	}
}

func TestChooseMirror(t *testing.T) {
	debian := fstest.MapFS{"etc/apt/sources.list": {Data: []byte("deb http://mirror.example/debian bookworm main\n")}}
	if m, why := ChooseMirror(debian, "bookworm"); m != "http://mirror.example/debian" || !strings.Contains(why, "serve bookworm") {
		t.Errorf("Debian host: %q (%s)", m, why)
	}
	ubuntu := fstest.MapFS{"etc/apt/sources.list": {Data: []byte("deb http://archive.ubuntu.com/ubuntu jammy main restricted\n")}}
	if m, why := ChooseMirror(ubuntu, "bookworm"); m != DebianMirror || !strings.Contains(why, "--mirror") {
		t.Errorf("Ubuntu host: %q (%s)", m, why)
	}
}
