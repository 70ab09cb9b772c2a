package doctor

import (
	"context"
	"fmt"
	"strings"
)

// checkBaseImage and checkEtcd ask the caller's lookups whether the guest
// artifacts are there.
func checkBaseImage(ctx context.Context, p Lookups, req Requirements) []Check {
	return []Check{artifact(ctx, "base image", p.BaseImage, req.imageFix())}
}

func checkEtcd(ctx context.Context, p Lookups, req Requirements) []Check {
	return []Check{artifact(ctx, "etcd binary", p.EtcdBinary, req.etcdFix())}
}

func artifact(ctx context.Context, name string, probe func(context.Context) (string, error), fix string) Check {
	if probe == nil {
		return warn(name, "not checked", fix, false)
	}
	detail, err := probe(ctx)
	if err != nil {
		return fail(name, err.Error(), fix, true)
	}
	return ok(name, detail, true)
}

// imageTools are the programs `lab image build` runs and their packages.
var imageTools = []struct{ bin, pkg string }{
	{"debootstrap", "debootstrap"},
	{"mkfs.ext4", "e2fsprogs"},
	{"qemu-img", "qemu-utils"},
}

// checkImageTools looks for what `lab image build` needs. Missing tools
// are a warning: a lab runs from a fetched or already built image.
func checkImageTools(_ context.Context, p Lookups, _ Requirements) []Check {
	const name = "image tools"
	var found, missing, pkgs []string
	for _, t := range imageTools {
		path, err := p.LookPath(t.bin)
		if err != nil {
			missing = append(missing, t.bin)
			pkgs = append(pkgs, t.pkg)
			continue
		}
		found = append(found, path)
	}
	if len(missing) > 0 {
		return []Check{warn(name, fmt.Sprintf("%s not found: lab image build cannot run", strings.Join(missing, ", ")),
			aptInstall(pkgs...), false)}
	}
	return []Check{ok(name, strings.Join(found, ", "), false)}
}
