package guest

import (
	"fmt"
	"path"
	"strings"
)

// ResetOptions are what a scenario arm changes on a node besides the unit.
type ResetOptions struct {
	// KeepEtcd leaves EtcdBinary alone (the arm installs its own next);
	// false puts the lab's own back from LabEtcdBinary, if it was kept.
	KeepEtcd bool
	// NoPreVote writes ArmDropIn setting ETCD_PRE_VOTE=false.
	NoPreVote bool
}

// ResetScript stops etcd, removes its data (the next start bootstraps a
// new cluster), installs the unit it reads from standard input at UnitPath
// (the bytes the seed writes there: UnitFile) and the arm's environment,
// and leaves etcd stopped. Every step is safe to run twice.
func ResetScript(o ResetOptions) string {
	var b strings.Builder
	// SIGKILL first: the data is wiped next, so etcd's graceful stop (a
	// leader hands its leadership over, for up to 5 s + 2 × election, to
	// a member that is stopping too) is wasted time.
	fmt.Fprintf(&b, "set -e\nsystemctl kill --signal=SIGKILL etcd 2>/dev/null || true\nsystemctl stop etcd\nrm -rf %s\n", MemberDir)
	fmt.Fprintf(&b, "cat > %[1]s.new\nchmod %04[2]o %[1]s.new\nmv %[1]s.new %[1]s\n", UnitPath, unitMode)
	fmt.Fprintf(&b, "rm -f %s\n", ArmDropIn)
	if o.NoPreVote {
		// etcd reads every flag from ETCD_<FLAG> too (3.4 and later).
		fmt.Fprintf(&b, "mkdir -p %s\nprintf '[Service]\\nEnvironment=ETCD_PRE_VOTE=false\\n' > %s\n", path.Dir(ArmDropIn), ArmDropIn)
	}
	if !o.KeepEtcd {
		fmt.Fprintf(&b, "if [ -e %[1]s ]; then cp -p %[1]s %[2]s; fi\n", LabEtcdBinary, EtcdBinary)
	}
	b.WriteString("systemctl daemon-reload\n")
	return b.String()
}

// InstallEtcdScript puts the etcd binary it reads from standard input at
// EtcdBinary, in place of the lab's, which is kept as LabEtcdBinary the
// first time. The copy must have sha256 sum (hex) before it replaces
// anything. etcd must be stopped.
func InstallEtcdScript(sum string) string {
	return installScript(EtcdBinary, ".arm", sum, "test -e "+LabEtcdBinary+" || cp -p "+EtcdBinary+" "+LabEtcdBinary+"\n", "cat")
}

// EtcdInstalledScript prints "installed" when the etcd binary of sha256
// sum is in place already, with the lab's own kept aside: the previous
// arm's, on the same version, needs no second upload.
func EtcdInstalledScript(sum string) string {
	return "if echo '" + sum + "  " + EtcdBinary + "' | sha256sum -c --quiet >/dev/null 2>&1 && test -e " +
		LabEtcdBinary + "; then echo " + Installed + "; fi\n"
}

// Installed is what EtcdInstalledScript prints for a binary in place.
const Installed = "installed"

// installScript writes standard input, through filter (cat, gzip -dc), to
// dest+suffix, checks its sha256 and renames it to dest, after running
// before.
func installScript(dest, suffix, sum, before, filter string) string {
	tmp := dest + suffix
	return "set -e\n" + before +
		"mkdir -p " + path.Dir(dest) + "\n" +
		filter + " > " + tmp + "\nchmod 0755 " + tmp + "\n" +
		"echo '" + sum + "  " + tmp + "' | sha256sum -c --quiet\n" +
		"mv " + tmp + " " + dest + "\n"
}
