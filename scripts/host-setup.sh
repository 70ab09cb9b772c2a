#!/usr/bin/env bash
# host-setup.sh makes a Debian/Ubuntu host ready to run `lab`: it installs the
# missing packages, starts virtlogd and libvirtd (through systemd where systemd
# is PID 1, directly otherwise), waits until libvirt answers on qemu:///system
# and makes /dev/kvm usable by the user qemu runs as. It is idempotent: a second
# run changes nothing and reports every step as already done.
#
# Usage: sudo scripts/host-setup.sh [--dry-run]
#   --dry-run  report what would be done without changing anything (no root needed)
#
# The HOST_SETUP_* variables below exist so scripts/host-setup-test.sh can run
# every branch against fakes; nobody needs to set them otherwise.
set -euo pipefail

readonly PACKAGES=(
	qemu-system-x86        # qemu-system-x86_64, seabios (Depends)
	qemu-utils             # qemu-img: raw -> qcow2 for the base image
	libvirt-daemon-system  # libvirtd, virtlogd, the qemu driver, dir pools, networks
	libvirt-clients        # virsh, used here to wait for the daemon
	dnsmasq-base           # DHCP/DNS on libvirt networks (only a Recommends of libvirt)
	iproute2               # libvirt bridges (only a Recommends of libvirt)
	debootstrap            # lab image build
	debian-archive-keyring # lets debootstrap verify a Debian suite (a Recommends)
	e2fsprogs              # mkfs.ext4 -d for the image without loop mounts
	fdisk                  # sfdisk: the partition table of lab image build --boot disk
	grub-pc-bin            # GRUB for BIOS (boot.img, modules) for --boot disk
	ca-certificates        # lab image fetch / etcd fetch over https
	python3                # runs the guests' fsync probe script in the host-side test
)

readonly URI=qemu:///system
export DEBIAN_FRONTEND=noninteractive
KVM_DEV=${HOST_SETUP_KVM_DEV:-/dev/kvm}
SYSTEMD_DIR=${HOST_SETUP_SYSTEMD_DIR:-/run/systemd/system}
PROC_DIR=${HOST_SETUP_PROC_DIR:-/proc}
QEMU_CONF=${HOST_SETUP_QEMU_CONF:-/etc/libvirt/qemu.conf}
WAIT_SECONDS=${HOST_SETUP_WAIT_SECONDS:-30}
LOG_DIR=${HOST_SETUP_LOG_DIR:-/var/log/libvirt}

dry_run=false

usage() {
	sed -n 's/^# \{0,1\}//; 2,/^set -euo/p' "$0" | sed '$d'
}

# report prints one line per step: what it is and what was done or found.
report() { printf '%-15s %s\n' "$1" "$2"; }

die() {
	printf 'host-setup: error: %s\n' "$*" >&2
	exit 1
}

# run executes a command that changes the host, or only names it in dry-run mode.
run() {
	if $dry_run; then
		printf '%-15s would run: %s\n' "" "$*"
		return 0
	fi
	"$@"
}

installed() {
	local status
	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	[[ $status == *" installed" ]]
}

ensure_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		installed "$p" || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		report packages "already installed: ${PACKAGES[*]}"
		return
	fi
	report packages "installing: ${missing[*]}"
	# A failed index refresh (one unreachable extra source) must not stop the
	# install when the main mirror still serves the packages; the install's own
	# exit status decides.
	if ! run apt-get -q update; then
		report "" "warning: apt-get update failed; trying the install with the lists there are"
	fi
	# DPkg::Lock::Timeout waits for another apt instead of failing at once.
	# Without systemd, the libvirt packages' postinst scripts skip starting
	# services (deb-systemd-invoke does nothing), so they cannot fail here.
	run apt-get -q -y -o DPkg::Lock::Timeout=300 \
		install --no-install-recommends "${missing[@]}" ||
		die "apt-get install ${missing[*]} failed (see the apt output above)"
	if ! $dry_run; then
		for p in "${missing[@]}"; do
			installed "$p" || die "package $p is still not installed after apt-get install"
		done
	fi
	report packages "installed: ${missing[*]}"
}

have_systemd() { [[ -d $SYSTEMD_DIR ]]; }

# process_running looks for a process by its command name in /proc, so it
# needs neither procps nor a pid file the daemon may not have written.
process_running() {
	local comm name
	for comm in "$PROC_DIR"/[0-9]*/comm; do
		# A process may exit between the glob and the read.
		read -r name 2>/dev/null <"$comm" || continue
		[[ $name == "$1" ]] && return 0
	done
	return 1
}

# daemons prints the daemons qemu:///system needs and the socket it answers
# on: the monolithic libvirtd where it is installed, the modular daemons
# (virtqemud and friends) where libvirtd is not.
daemons() {
	if command -v libvirtd >/dev/null; then
		echo "virtlogd libvirtd"
	elif command -v virtqemud >/dev/null; then
		echo "virtlogd virtqemud virtnetworkd virtstoraged"
	else
		echo "virtlogd libvirtd" # not installed yet: dry-run before the packages
	fi
}

socket_path() {
	if [[ " $(daemons) " == *" libvirtd "* ]]; then
		echo /var/run/libvirt/libvirt-sock
	else
		echo /var/run/libvirt/virtqemud-sock
	fi
}

start_daemon() {
	local d=$1
	if have_systemd; then
		if systemctl is-active --quiet "$d"; then
			report "$d" "already running (systemd)"
			return
		fi
		# Debian's units exit when idle and come back through their sockets:
		# a listening socket is as good as a running daemon.
		if systemctl is-active --quiet "$d.socket"; then
			report "$d" "already listening ($d.socket)"
			return
		fi
		run systemctl start "$d" || die "systemctl start $d failed; see: journalctl -u $d"
		report "$d" "started (systemctl start $d)"
		return
	fi
	if process_running "$d"; then
		report "$d" "already running"
		return
	fi
	# Without systemd the daemon would log to a syslog that may not exist:
	# keep warnings and errors in a file the failure message can point to.
	run mkdir -p "$LOG_DIR"
	if ! run env LIBVIRT_LOG_OUTPUTS="3:file:$LOG_DIR/$d.log" "$d" -d; then
		# Another process may have started it in the meantime; the wait for
		# the socket below decides whether that is fine.
		report "$d" "warning: '$d -d' failed; see $LOG_DIR/$d.log"
		return
	fi
	report "$d" "started ($d -d, log $LOG_DIR/$d.log)"
}

wait_for_libvirt() {
	local sock deadline out=""
	sock=$(socket_path)
	if $dry_run; then
		report libvirt "would wait up to ${WAIT_SECONDS}s for $URI on $sock"
		return
	fi
	deadline=$((SECONDS + WAIT_SECONDS))
	while :; do
		if out=$(timeout 10 virsh -c "$URI" version 2>&1); then
			report libvirt "answers on $sock ($URI)"
			return
		fi
		((SECONDS < deadline)) || break
		sleep 1
	done
	die "libvirt did not answer on $sock within ${WAIT_SECONDS}s: $(tail -n 1 <<<"$out")
  look at $LOG_DIR/libvirtd.log, or run 'libvirtd --verbose' in the foreground to see why"
}

# qemu_user is the user libvirt runs qemu as: qemu.conf's user when set,
# else the distribution's default.
qemu_user() {
	local u
	u=$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$QEMU_CONF" 2>/dev/null | tail -n 1)
	if [[ -n $u ]]; then
		echo "$u"
	elif getent passwd libvirt-qemu >/dev/null; then
		echo libvirt-qemu
	else
		echo qemu
	fi
}

ensure_kvm() {
	if [[ ! -e $KVM_DEV ]]; then
		report /dev/kvm "absent: guests will run under TCG (software emulation, slower)"
		return
	fi
	local group mode user did=()
	group=$(stat -c %G "$KVM_DEV")
	mode=$(stat -c %a "$KVM_DEV")
	user=$(qemu_user)
	if ! getent group kvm >/dev/null; then
		run groupadd --system kvm
		did+=("created group kvm")
	fi
	if [[ $group != kvm ]]; then
		run chgrp kvm "$KVM_DEV"
		did+=("chgrp kvm (was $group)")
	fi
	# The group digit must allow read and write (6 or 7); a wider mode such
	# as 0666 is left as the distribution set it.
	local gdigit=${mode: -2:1}
	if ((gdigit != 6 && gdigit != 7)); then
		run chmod 0660 "$KVM_DEV"
		did+=("chmod 0660 (was $mode)")
	fi
	if [[ $user != root && $user != +0 ]] && id "$user" >/dev/null 2>&1 &&
		[[ " $(id -nG "$user") " != *" kvm "* ]]; then
		run usermod -a -G kvm "$user"
		did+=("added $user to group kvm")
	fi
	if ((${#did[@]} == 0)); then
		report /dev/kvm "already usable by $user (group kvm, mode $mode)"
		return
	fi
	local joined
	joined=$(printf '%s; ' "${did[@]}")
	report /dev/kvm "${joined%; }"
}

versions() {
	local out lib hv
	out=$(timeout 10 virsh -c "$URI" version 2>/dev/null) || return 0
	lib=$(sed -n 's/^Using library: //p' <<<"$out")
	hv=$(sed -n 's/^Running hypervisor: //p' <<<"$out")
	echo "${lib:-libvirt ?}, ${hv:-QEMU ?}"
}

main() {
	while (($#)); do
		case $1 in
		--dry-run) dry_run=true ;;
		-h | --help)
			usage
			return 0
			;;
		*) die "unknown argument: $1 (try --help)" ;;
		esac
		shift
	done
	if ! $dry_run && [[ $(id -u) != 0 ]]; then
		printf 'host-setup: this installs packages and starts system daemons, so it needs root:\n' >&2
		printf '  sudo %s\n' "$0" >&2
		exit 1
	fi

	ensure_packages
	local d
	for d in $(daemons); do
		start_daemon "$d"
	done
	wait_for_libvirt
	ensure_kvm
	if $dry_run; then
		echo "dry run: nothing changed"
		return
	fi
	echo "host ready ($(versions))"
}

main "$@"
