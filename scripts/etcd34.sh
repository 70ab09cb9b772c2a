#!/usr/bin/env bash
# Puts Debian's etcd 3.4 (package etcd-server, the story's generation of
# etcd) into the lab cache and prints the binary's path, for
# `lab create --etcd-binary PATH`. Idempotent: a cached binary is reused.
set -euo pipefail

cache=${LAB_CACHE_DIR:-/var/cache/lab}/debian-etcd-server
bin=$cache/root/usr/bin/etcd
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
# apt-get download needs package lists; a fresh machine may have none.
if ! apt-get download etcd-server >/dev/null 2>&1; then
	apt-get update -q >/dev/null
	apt-get download etcd-server >/dev/null
fi
mkdir -p root
dpkg-deb -x etcd-server_*.deb root
"$tmp/root/usr/bin/etcd" --version | head -1 >&2
mkdir -p "$cache"
rm -rf "$cache/root"
mv root "$cache/root"
echo "$bin"
