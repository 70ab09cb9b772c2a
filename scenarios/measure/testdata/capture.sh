#!/usr/bin/env bash
# capture.sh regenerates the captured etcd text the measure tests read:
# metrics-VERSION-before.txt / metrics-VERSION-after.txt (one member's /metrics
# before and after a slow-disk window) and journal-VERSION.txt (all members'
# logs as `journalctl -u etcd -o short-iso-precise` prints them).
#
#   testdata/capture.sh 3.6 /var/cache/lab/etcd/v3.6.16-built-linux-amd64/etcd
#   testdata/capture.sh 3.4 /tmp/etcd-server/usr/bin/etcd   # Debian's 3.4.23
#
# It runs three members on 127.0.0.1 (plain HTTP: TLS changes neither the
# metrics nor the messages), a put and a linearizable read every 0.5 s, then
# for SLOW seconds delays every fdatasync of every member by DELAY_US with
# strace's fault injection (a disk whose flushes take ~1.2 s, like the
# story's). Before the slow window it kills the leader with SIGKILL, waits
# for the election and the failed health checks, and restarts it.
#
# OUT (default: this directory) is where the files go.
#
# Needs: curl, jq, strace (>= 4.22), journalctl, and systemd-journal-remote
# (Debian's systemd-journal-remote and libmicrohttpd12 extracted with
# dpkg-deb -x into $JR_ROOT, default /tmp/measure/x). The grpc_server_*
# families (two thirds of the text, one line per gRPC method) are dropped
# from the metrics to keep the files small.
set -euo pipefail

version=$1
etcd=$2
slow=${SLOW:-20}
delay_us=${DELAY_US:-1200000}
jr_root=${JR_ROOT:-/tmp/measure/x}
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here}
base=$([ "$version" = 3.4 ] && echo 31 || echo 32)
names=(k8smaster0 k8smaster1 k8smaster2)
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

client() { echo "http://127.0.0.1:$((base * 1000 + 379 + $1 * 10))"; }
peer() { echo "http://127.0.0.1:$((base * 1000 + 380 + $1 * 10))"; }
cluster=""
for i in 0 1 2; do cluster+="${cluster:+,}${names[$i]}=$(peer $i)"; done

start() {
	local i=$1
	"$etcd" --name "${names[$i]}" --data-dir "$work/${names[$i]}" \
		--listen-client-urls "$(client "$i")" --advertise-client-urls "$(client "$i")" \
		--listen-peer-urls "$(peer "$i")" --initial-advertise-peer-urls "$(peer "$i")" \
		--initial-cluster "$cluster" --initial-cluster-token capture \
		--initial-cluster-state new >>"$work/${names[$i]}.log" 2>&1 &
	pids[$i]=$!
	echo "${names[$i]} pid $!" >&2
}

metrics() {
	curl -sf "$(client "$1")/metrics" | awk '/^# (HELP|TYPE) /{skip = ($3 ~ /^grpc_server_/)} !skip && !/^grpc_server_/'
}

status() { curl -sf -m 2 -X POST "$(client "$1")/v3/maintenance/status" -d '{}'; }

for i in 0 1 2; do start "$i"; done
for _ in $(seq 60); do
	curl -sf -m 1 "$(client 0)/health" | grep -q '"health":"true"' && break
	sleep 0.5
done

(
	n=0
	while :; do
		n=$((n + 1))
		k=$(printf 'capture/%05d' "$n" | base64 -w0)
		curl -s -m 5 -X POST "$(client 0)/v3/kv/put" -d "{\"key\":\"$k\",\"value\":\"dmFsdWU=\"}" >/dev/null || true
		curl -s -m 5 -X POST "$(client 1)/v3/kv/range" -d "{\"key\":\"$k\"}" >/dev/null || true
		sleep 0.5
	done
) &
load=$!
pids+=("$load")

sleep 3
for i in 0 1 2; do metrics "$i" >"$work/before-$i.txt"; done

leader() {
	local i s
	for i in 0 1 2; do
		s=$(status "$i") || continue
		[ "$(echo "$s" | jq -r .header.member_id)" = "$(echo "$s" | jq -r .leader)" ] && echo "$i" && return
	done
	echo "no leader" >&2
	return 1
}

killed=$(leader)
echo "killing leader ${names[$killed]}" >&2
kill -KILL "${pids[$killed]}"
sleep 12
start "$killed"
sleep 3

echo "delaying fdatasync by ${delay_us} us for ${slow} s" >&2
straces=()
for i in 0 1 2; do
	strace -f -qq -o /dev/null -e trace=fdatasync -e inject=fdatasync:delay_exit="$delay_us" -p "${pids[$i]}" &
	straces+=("$!")
done
sleep "$slow"
kill -INT "${straces[@]}"
wait "${straces[@]}" || true
sleep 2

# The leader's counters show the heartbeats it sent late; the member
# restarted above has lost its own.
keep=$(leader)
[ "$keep" = "$killed" ] && keep=$(((killed + 1) % 3))
ids=()
for i in 0 1 2; do ids[$i]=$(status "$i" | jq -r .header.member_id | xargs printf '%x'); done
metrics "$keep" >"$work/after.txt"

kill "$load"
for i in 0 1 2; do kill "${pids[$i]}"; done
wait || true

# A comment line (ignored by parsers) says where the text came from.
release=$("$etcd" --version | awk '/^etcd Version/ {print $3}')
for w in before after; do
	src="$work/after.txt"
	[ "$w" = before ] && src="$work/before-$keep.txt"
	{
		echo "# /metrics of ${names[$keep]} (etcd $release, member ${ids[$keep]}), $w the slow window; testdata/capture.sh"
		cat "$src"
	} >"$out/metrics-$version-$w.txt"
done
echo "metrics from ${names[$keep]}" >&2

flags=()
[ "$version" = 3.4 ] && flags=(-capnslog)
: >"$work/all.export"
for i in 0 1 2; do
	(cd "$here/.." && go run ./testdata/capture -host "${names[$i]}" -pid $((4242 + i)) "${flags[@]}") \
		<"$work/${names[$i]}.log" >>"$work/all.export"
done
# One node after another, as the lab collects them (one journalctl per node).
LD_LIBRARY_PATH="$jr_root/usr/lib/x86_64-linux-gnu" "$jr_root/lib/systemd/systemd-journal-remote" \
	-o "$work/capture.journal" - <"$work/all.export"
journalctl --file "$work/capture.journal" -u etcd -o short-iso-precise --no-pager >"$out/journal-$version.txt"
echo "wrote $out/metrics-$version-{before,after}.txt and journal-$version.txt" >&2
rm -rf "$work"
