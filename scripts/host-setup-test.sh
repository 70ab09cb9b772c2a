#!/usr/bin/env bash
# host-setup-test.sh runs scripts/host-setup.sh against fake apt, dpkg, systemd,
# libvirt daemons and /dev/kvm, so every branch (fresh host, second run,
# systemd or not, modular daemons, failures) is exercised without touching
# the real host. Needs no root. Exit status 0 when every case passes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
script=$here/host-setup.sh
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Commands whose presence in the call log means the host was changed.
readonly CHANGING='^(apt-get (-q )?update|apt-get .*install|systemctl start|libvirtd|virtlogd|virtqemud|virtnetworkd|virtstoraged|chgrp|chmod|usermod|groupadd) '

# fake writes a fake command into the case's bin directory.
fake() { cat >"$bin/$1"; chmod +x "$bin/$1"; }

# setup makes a fresh fake host: nothing installed, no daemons, /dev/kvm
# owned root:root 0600, group kvm present, no systemd.
setup() {
	case_dir=$tmp/$1
	bin=$case_dir/bin
	S=$case_dir/state
	mkdir -p "$bin" "$S/proc" "$S/installed" "$S/log"
	: >"$S/calls"
	touch "$S/kvm" "$S/group-kvm"
	echo root >"$S/kvm-group"
	echo 600 >"$S/kvm-mode"
	echo "libvirt-qemu kvm" >"$S/groups-libvirt-qemu"
	export S FAKE_UID=0
	export HOST_SETUP_KVM_DEV=$S/kvm HOST_SETUP_SYSTEMD_DIR=$S/systemd \
		HOST_SETUP_PROC_DIR=$S/proc HOST_SETUP_QEMU_CONF=$S/qemu.conf \
		HOST_SETUP_WAIT_SECONDS=2 HOST_SETUP_LOG_DIR=$S/log

	fake dpkg-query <<-'EOF'
		#!/usr/bin/env bash
		pkg=${!#}
		if [[ -e $S/installed/$pkg ]]; then printf 'install ok installed'; else printf 'unknown ok not-installed'; fi
	EOF
	fake apt-get <<-'EOF'
		#!/usr/bin/env bash
		echo "apt-get $* DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-}" >>"$S/calls"
		[[ " $* " == *" update"* && -e $S/fail-update ]] && exit 100
		if [[ " $* " == *" install "* ]]; then
			[[ -e $S/fail-install ]] && exit 100
			for a in "$@"; do [[ $a == -* || $a == install ]] || touch "$S/installed/$a"; done
		fi
		exit 0
	EOF
	fake id <<-'EOF'
		#!/usr/bin/env bash
		case $1 in
		-u) echo "$FAKE_UID" ;;
		-nG) cat "$S/groups-$2" ;;
		*) [[ -e $S/groups-$1 ]] ;;
		esac
	EOF
	fake getent <<-'EOF'
		#!/usr/bin/env bash
		case $1 in
		group) [[ -e $S/group-$2 ]] ;;
		passwd) [[ -e $S/groups-$2 ]] ;;
		esac
	EOF
	fake stat <<-'EOF'
		#!/usr/bin/env bash
		case $2 in %G) cat "$S/kvm-group" ;; %a) cat "$S/kvm-mode" ;; esac
	EOF
	fake chgrp <<-'EOF'
		#!/usr/bin/env bash
		echo "chgrp $*" >>"$S/calls"; echo "$1" >"$S/kvm-group"
	EOF
	fake chmod <<-'EOF'
		#!/usr/bin/env bash
		echo "chmod $*" >>"$S/calls"; echo "${1#0}" >"$S/kvm-mode"
	EOF
	fake usermod <<-'EOF'
		#!/usr/bin/env bash
		echo "usermod $*" >>"$S/calls"; echo "$(cat "$S/groups-$4") $3" >"$S/groups-$4"
	EOF
	fake groupadd <<-'EOF'
		#!/usr/bin/env bash
		echo "groupadd $*" >>"$S/calls"; touch "$S/group-${!#}"
	EOF
	fake timeout <<-'EOF'
		#!/usr/bin/env bash
		shift; exec "$@"
	EOF
	fake virsh <<-'EOF'
		#!/usr/bin/env bash
		if [[ -e $S/up ]]; then
			printf 'Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.0\n'
			exit 0
		fi
		echo "error: failed to connect to the hypervisor" >&2; exit 1
	EOF
	fake systemctl <<-'EOF'
		#!/usr/bin/env bash
		case $1 in
		is-active) [[ -e $S/active-${!#} ]] ;;
		start)
			echo "systemctl $*" >>"$S/calls"; touch "$S/active-$2"
			[[ $2 == libvirtd || $2 == virtqemud ]] && touch "$S/up"; exit 0 ;;
		esac
	EOF
	local d
	for d in virtlogd libvirtd; do daemon "$d"; done
}

# daemon fakes a libvirt daemon: "-d" records the call, shows the process
# in the fake /proc and, for the qemu driver's daemon, makes virsh answer.
daemon() {
	fake "$1" <<-EOF
		#!/usr/bin/env bash
		echo "$1 \$* LIBVIRT_LOG_OUTPUTS=\${LIBVIRT_LOG_OUTPUTS:-}" >>"\$S/calls"
		[[ -e \$S/no-socket ]] || { [[ $1 == libvirtd || $1 == virtqemud ]] && touch "\$S/up"; }
		mkdir -p "\$S/proc/\$\$" && echo $1 >"\$S/proc/\$\$/comm"
	EOF
}

installed_all() {
	local p
	for p in qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients dnsmasq-base \
		iproute2 debootstrap debian-archive-keyring e2fsprogs fdisk grub-pc-bin ca-certificates python3; do
		touch "$S/installed/$p"
	done
}

# host runs the script with only the fakes and the basic tools on PATH (no
# /usr/sbin, so the real libvirtd, usermod and friends are out of reach).
host() {
	: >"$S/calls"
	set +e
	PATH=$bin:/usr/bin:/bin "$script" "$@" >"$S/out" 2>"$S/err"
	status=$?
	set -e
}

fail() {
	printf 'FAIL %s: %s\n' "$case_name" "$*"
	printf '  --- stdout\n%s\n  --- stderr\n%s\n  --- calls\n%s\n' \
		"$(cat "$S/out")" "$(cat "$S/err")" "$(cat "$S/calls")" | sed 's/^/  /'
	failures=$((failures + 1))
}

expect_status() { [[ $status == "$1" ]] || fail "exit status $status, want $1"; }
expect_out() { grep -qE -- "$1" "$S/out" || fail "stdout lacks /$1/"; }
expect_err() { grep -qE -- "$1" "$S/err" || fail "stderr lacks /$1/"; }
expect_call() { grep -qE -- "$1" "$S/calls" || fail "no call matching /$1/"; }
expect_no_call() { ! grep -qE -- "$1" "$S/calls" || fail "unexpected call matching /$1/"; }
expect_unchanged() { expect_no_call "$CHANGING"; }

run_case() {
	case_name=$1
	setup "$1"
	local before=$failures
	"$1"
	((failures > before)) || echo "ok   $1"
}

fresh_host_without_systemd() {
	host
	expect_status 0
	expect_call '^apt-get -q update'
	expect_call '^apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients dnsmasq-base iproute2 debootstrap debian-archive-keyring e2fsprogs fdisk grub-pc-bin ca-certificates python3 DEBIAN_FRONTEND=noninteractive$'
	expect_call "^virtlogd -d LIBVIRT_LOG_OUTPUTS=3:file:$S/log/virtlogd.log$"
	expect_call "^libvirtd -d LIBVIRT_LOG_OUTPUTS=3:file:$S/log/libvirtd.log$"
	expect_no_call '^systemctl'
	expect_call "^chgrp kvm $S/kvm$"
	expect_call "^chmod 0660 $S/kvm$"
	expect_out '^packages +installed: qemu-system-x86 '
	expect_out '^libvirtd +started \(libvirtd -d'
	expect_out '^libvirt +answers on /var/run/libvirt/libvirt-sock'
	expect_out '^/dev/kvm +chgrp kvm \(was root\); chmod 0660 \(was 600\)$'
	expect_out '^host ready \(libvirt 9.0.0, QEMU 7.2.0\)$'

	host
	expect_status 0
	expect_unchanged
	expect_out '^packages +already installed: '
	expect_out '^virtlogd +already running$'
	expect_out '^libvirtd +already running$'
	expect_out '^/dev/kvm +already usable by libvirt-qemu \(group kvm, mode 660\)$'
	expect_out '^host ready'
}

fresh_host_with_systemd() {
	mkdir -p "$S/systemd"
	host
	expect_status 0
	expect_call '^systemctl start virtlogd$'
	expect_call '^systemctl start libvirtd$'
	expect_no_call '^(virtlogd|libvirtd) '
	expect_out '^libvirtd +started \(systemctl start libvirtd\)$'

	host
	expect_status 0
	expect_unchanged
	expect_out '^libvirtd +already running \(systemd\)$'
}

socket_activated_daemons_are_left_alone() {
	installed_all
	mkdir -p "$S/systemd"
	touch "$S/active-virtlogd.socket" "$S/active-libvirtd.socket" "$S/up"
	echo kvm >"$S/kvm-group"
	echo 660 >"$S/kvm-mode"
	host
	expect_status 0
	expect_unchanged
	expect_out '^libvirtd +already listening \(libvirtd.socket\)$'
}

only_missing_packages_are_installed() {
	installed_all
	rm "$S/installed/debootstrap" "$S/installed/dnsmasq-base"
	host
	expect_status 0
	expect_call 'install --no-install-recommends dnsmasq-base debootstrap DEBIAN_FRONTEND'
	expect_out '^packages +installed: dnsmasq-base debootstrap$'
}

failed_update_still_installs() {
	touch "$S/fail-update"
	host
	expect_status 0
	expect_out 'warning: apt-get update failed'
	expect_call 'install --no-install-recommends'
	expect_out '^host ready'
}

failed_install_fails() {
	touch "$S/fail-install"
	host
	expect_status 1
	expect_err 'error: apt-get install .* failed'
	expect_no_call '^(virtlogd|libvirtd) '
}

not_root_says_sudo() {
	FAKE_UID=1000
	host
	expect_status 1
	expect_err "^  sudo $script$"
	expect_unchanged
}

dry_run_changes_nothing() {
	FAKE_UID=1000
	host --dry-run
	expect_status 0
	expect_unchanged
	expect_out 'would run: apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends qemu-system-x86'
	expect_out "would run: env LIBVIRT_LOG_OUTPUTS=3:file:$S/log/libvirtd.log libvirtd -d"
	expect_out "would run: chgrp kvm $S/kvm"
	expect_out '^dry run: nothing changed$'
}

libvirt_never_answers() {
	installed_all
	touch "$S/no-socket"
	host
	expect_status 1
	expect_err 'libvirt did not answer on /var/run/libvirt/libvirt-sock within 2s: error: failed to connect'
	expect_err "look at $S/log/libvirtd.log"
}

daemon_start_fails_but_another_started_it() {
	installed_all
	fake libvirtd <<-'EOF'
		#!/usr/bin/env bash
		touch "$S/up"; exit 1
	EOF
	host
	expect_status 0
	expect_out "^libvirtd +warning: 'libvirtd -d' failed"
	expect_out '^host ready'
}

modular_daemons() {
	installed_all
	rm "$bin/libvirtd"
	local d
	for d in virtqemud virtnetworkd virtstoraged; do daemon "$d"; done
	host
	expect_status 0
	expect_call '^virtqemud -d'
	expect_call '^virtnetworkd -d'
	expect_call '^virtstoraged -d'
	expect_out '^libvirt +answers on /var/run/libvirt/virtqemud-sock'
	host
	expect_unchanged
}

kvm_absent_is_reported() {
	installed_all
	rm "$S/kvm"
	host
	expect_status 0
	expect_out '^/dev/kvm +absent: guests will run under TCG'
	expect_no_call '^(chgrp|chmod)'
}

kvm_wider_mode_is_left_alone() {
	installed_all
	echo kvm >"$S/kvm-group"
	echo 666 >"$S/kvm-mode"
	host
	expect_status 0
	expect_no_call '^(chgrp|chmod)'
	expect_out '^/dev/kvm +already usable by libvirt-qemu \(group kvm, mode 666\)$'
}

kvm_group_and_membership_are_fixed() {
	installed_all
	rm "$S/group-kvm"
	echo kvm >"$S/kvm-group"
	echo 660 >"$S/kvm-mode"
	echo 'user = "qemu"' >"$S/qemu.conf"
	echo qemu >"$S/groups-qemu"
	host
	expect_status 0
	expect_call '^groupadd --system kvm$'
	expect_call '^usermod -a -G kvm qemu$'
	expect_out '^/dev/kvm +created group kvm; added qemu to group kvm$'
	host
	expect_unchanged
}

for c in fresh_host_without_systemd fresh_host_with_systemd socket_activated_daemons_are_left_alone \
	only_missing_packages_are_installed \
	failed_update_still_installs failed_install_fails not_root_says_sudo dry_run_changes_nothing \
	libvirt_never_answers daemon_start_fails_but_another_started_it modular_daemons \
	kvm_absent_is_reported kvm_wider_mode_is_left_alone kvm_group_and_membership_are_fixed; do
	run_case "$c"
done

if ((failures > 0)); then
	echo "host-setup-test: $failures failure(s)"
	exit 1
fi
echo "host-setup-test: all cases pass"
