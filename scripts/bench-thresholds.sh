#!/usr/bin/env bash
# Checks ScopeGateBenchmarks against the recorded wall-clock and allocation thresholds
# (Benchmarks/Thresholds/ScopeGateBenchmarks.*.p90.json, tolerances in the benchmarks' configurations). Run it by
# hand on a quiet machine: wall time on a loaded one fails it (the CI gate is scripts/bench-check.sh, which counts
# instructions instead).
#
# Why not `swift package benchmark thresholds check` alone: ordo-one's benchmark 1.38.1 writes the files with `_`
# for the spaces of a benchmark's name (`thresholds update`), but reads them back under the name with its spaces,
# so the check finds none and fails. This script hands the check a copy under the names it reads.
#
#   scripts/bench-thresholds.sh [--filter REGEX]
set -euo pipefail
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/../Benchmarks"
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
for file in Thresholds/ScopeGateBenchmarks.*.p90.json; do
  name=$(basename "$file" .p90.json)
  cp "$file" "$copy/${name//_/ }.p90.json"
done
timeout 2400 swift package --disable-sandbox benchmark thresholds check --target ScopeGateBenchmarks --no-progress \
  --path "$copy" "$@"
