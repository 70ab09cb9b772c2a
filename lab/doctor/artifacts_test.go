package doctor

import (
	"context"
	"errors"
	"testing"
)

func TestArtifacts(t *testing.T) {
	missing := func(context.Context) (string, error) {
		return "", errors.New(`no image "debian-12" in /var/cache/lab`)
	}
	h := newFakeHost()
	want(t, check(t, h, story(), "base image"), OK, true, "debian-12 sha256:3f2a9c (1.1 GiB)", "")
	want(t, check(t, h, story(), "etcd binary"), OK, true, "v3.6.16 built from the Go modules", "")

	h.image, h.etcd = missing, missing
	want(t, check(t, h, story(), "base image"), Fail, true, `no image "debian-12" in /var/cache/lab`, DefaultImageFix)
	want(t, check(t, h, story(), "etcd binary"), Fail, true, "no image", DefaultEtcdFix)

	req := story()
	req.ImageFix, req.EtcdFix = "lab image fetch --distro debian-12", "lab etcd fetch --version v3.4.7"
	want(t, check(t, h, req, "base image"), Fail, true, "", "lab image fetch --distro debian-12")
	want(t, check(t, h, req, "etcd binary"), Fail, true, "", "lab etcd fetch --version v3.4.7")

	h.image, h.etcd = nil, nil
	want(t, check(t, h, story(), "base image"), Warn, false, "not checked", DefaultImageFix)
	want(t, check(t, h, story(), "etcd binary"), Warn, false, "not checked", DefaultEtcdFix)
}

func TestImageTools(t *testing.T) {
	h := newFakeHost()
	want(t, check(t, h, story(), "image tools"), OK, false, "/usr/sbin/debootstrap, /usr/sbin/mkfs.ext4, /usr/bin/qemu-img", "")
	delete(h.bins, "debootstrap")
	delete(h.bins, "mkfs.ext4")
	want(t, check(t, h, story(), "image tools"), Warn, false,
		"debootstrap, mkfs.ext4 not found: lab image build cannot run",
		"sudo apt-get install -y --no-install-recommends debootstrap e2fsprogs")
}
