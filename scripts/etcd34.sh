#!/usr/bin/env bash
# Puts Debian's etcd 3.4 (bookworm's etcd-server and etcd-client 3.4.23, the
# story's generation of etcd) into the lab cache and prints the etcd
# binary's path, for `lab create --etcd-binary PATH`. It is `lab etcd fetch
# --from debian`: verified from the suite's signed InRelease down to each
# package. Idempotent: a cached binary is reused. LAB names the lab binary
# (default bin/lab, which `make build` makes).
set -euo pipefail

lab=${LAB:-bin/lab}
"$lab" -q etcd fetch --from debian --version v3.4.23 | awk '$1 == "etcd" { print $2 }'
