#!/usr/bin/env bash
# Builds and runs one libFuzzer target from Fuzz/ (not part of Package.swift; the main build never needs it).
#
#   scripts/fuzz.sh TARGET [SECONDS] [extra libFuzzer flags...]
#   scripts/fuzz.sh --build-only TARGET
#   scripts/fuzz.sh --list
#
# Targets: policy (YAML → compiler → grant/decide), jsonl (batch byte reader vs the JSONParser path / JSONParser),
# differential (structure-aware: fuzzer bytes → random policy + grant + call; compiled matcher vs the naive
# reference evaluator, any disagreement traps), jose (compact JWS / strict JSON / base64url token parsing),
# request (HTTP headers + JSON-RPC body → RequestAuthorizer, checked against CompiledPolicy.decide), response
# (list results as JSON and as SSE cut anywhere → ListFilter / SSEListFilter), httphead (bytes → the decision
# service's HTTP/1.1 request-head reader, whole and in two parts, and its canonical form read back).
#
# request and response compile Sources/ScopeGateRequestAuthorization/*.swift into the harness, with the policy the
# gateway's tests decide against (Sources/ScopeGateTesting/GatewayTestPolicy.swift, plain text). That code imports
# ScopeGateTokens, which needs jwt-kit and swift-crypto (BoringSSL) that swiftc alone cannot build: the script
# builds a stand-in module `ScopeGateTokens` from the plain-Swift files it uses (TokenError, TokenClock,
# VerifiedToken, ClaimValue, VerifiedTokenCache; no signature checking), and the harnesses resolve bearer tokens
# through a fixed VerifiedTokenCache, as the proxy's TokenAuthenticator does on a cache hit.
#
# The core sources (Sources/ScopeGate/**/*.swift) are compiled once into .build-fuzz/core (module `ScopeGate`,
# -enable-testing so harnesses may `@testable import` it) with coverage + ASan, against the system libyaml
# (libyaml-dev, module map in Sources/CLibYAML); each target is then a small module: Fuzz/Common + Fuzz/<target> + the shared files below. Runs start from the committed seeds in Fuzz/corpus/<target>/ and write
# new inputs to .build-fuzz/corpus/<target>/ (the committed seeds stay small); crashes land in .build-fuzz/crashes/.
set -euo pipefail
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${FUZZ_BUILD_DIR:-$ROOT/.build-fuzz}
TARGETS="policy jsonl differential jose request response httphead"

build_only=0
case "${1:-}" in
  --list) echo "$TARGETS"; exit 0 ;;
  --build-only) build_only=1; shift ;;
  ""|-h|--help) sed -n '2,25p' "$0"; exit 2 ;;
esac
target=$1
seconds=${2:-60}
shift; [ $# -gt 0 ] && shift
case " $TARGETS " in *" $target "*) ;; *) echo "unknown target \`$target\` (one of: $TARGETS)" >&2; exit 2 ;; esac

mkdir -p "$OUT"

# Builds are serialized (two runs started together must not rebuild .build-fuzz/core at once); runs are not.
exec 9>"$OUT/build.lock"
flock 9

# --- the core, once: module `ScopeGate` with -enable-testing, so harnesses can `@testable import` it -------
CORE_OUT=$OUT/core
if [ ! -f "$CORE_OUT/libScopeGate.a" ] || [ -n "$(find "$ROOT/Sources/ScopeGate" -name '*.swift' -newer "$CORE_OUT/libScopeGate.a" | head -1)" ]; then
  echo "== building the core (coverage + ASan) into $CORE_OUT" >&2
  start=$(date +%s)
  rm -rf "$CORE_OUT"; mkdir -p "$CORE_OUT/src"
  # Compile a snapshot, so an edit to the working tree during the (long) build cannot fail it.
  (cd "$ROOT/Sources/ScopeGate" && find . -name '*.swift' -exec cp --parents {} "$CORE_OUT/src/" \;)
  mapfile -t core < <(find "$CORE_OUT/src" -name '*.swift' | sort)
  timeout 1800 swiftc -parse-as-library -module-name ScopeGate -package-name scopegate -O -enable-testing -sanitize=fuzzer,address \
    -suppress-warnings -I "$ROOT/Sources/CLibYAML" \
    -emit-module -emit-module-path "$CORE_OUT/ScopeGate.swiftmodule" -emit-library -static \
    -o "$CORE_OUT/libScopeGate.a" "${core[@]}"
  echo "== core built in $(( $(date +%s) - start )) s" >&2
fi

# --- request/response: the plain-Swift part of ScopeGateTokens as module `ScopeGateTokens` ------------------
TOKENS_OUT=$OUT/tokens
tokens_src=("$ROOT"/Sources/ScopeGateTokens/{Support/TokenError,Support/TokenClock,Verification/VerifiedToken,JOSE/ClaimValue,Cache/VerifiedTokenCache}.swift)
links=()
case "$target" in
  request|response)
    if [ ! -f "$TOKENS_OUT/libScopeGateTokens.a" ] \
      || [ -n "$(find "${tokens_src[@]}" "$CORE_OUT/libScopeGate.a" -newer "$TOKENS_OUT/libScopeGateTokens.a" | head -1)" ]; then
      echo "== building the ScopeGateTokens subset into $TOKENS_OUT" >&2
      rm -rf "$TOKENS_OUT"; mkdir -p "$TOKENS_OUT"
      timeout 1800 swiftc -parse-as-library -module-name ScopeGateTokens -package-name scopegate -O -enable-testing \
        -sanitize=fuzzer,address -suppress-warnings -I "$CORE_OUT" -I "$ROOT/Sources/CLibYAML" \
        -emit-module -emit-module-path "$TOKENS_OUT/ScopeGateTokens.swiftmodule" -emit-library -static \
        -o "$TOKENS_OUT/libScopeGateTokens.a" "${tokens_src[@]}"
    fi
    links=(-I "$TOKENS_OUT" "$TOKENS_OUT/libScopeGateTokens.a") ;;
  httphead)
    # The head reader imports ScopeGateRequestAuthorization for `ASCIICase` and `ByteClass` alone: those files are
    # the stand-in module.
    AUTHZ_OUT=$OUT/request-authorization
    byte_helpers=("$ROOT"/Sources/ScopeGateRequestAuthorization/{ASCIICase,ByteClass}.swift)
    if [ ! -f "$AUTHZ_OUT/libScopeGateRequestAuthorization.a" ] \
      || [ -n "$(find "${byte_helpers[@]}" -newer "$AUTHZ_OUT/libScopeGateRequestAuthorization.a" | head -1)" ]; then
      rm -rf "$AUTHZ_OUT"; mkdir -p "$AUTHZ_OUT"
      timeout 600 swiftc -parse-as-library -module-name ScopeGateRequestAuthorization -package-name scopegate -O \
        -sanitize=fuzzer,address -suppress-warnings -emit-module \
        -emit-module-path "$AUTHZ_OUT/ScopeGateRequestAuthorization.swiftmodule" -emit-library -static \
        -o "$AUTHZ_OUT/libScopeGateRequestAuthorization.a" "${byte_helpers[@]}"
    fi
    links=(-I "$AUTHZ_OUT" "$AUTHZ_OUT/libScopeGateRequestAuthorization.a") ;;
esac

# --- the target: a small module over the core --------------------------------------------------------------
extra=()
case "$target" in
  policy)       extra=() ;;
  jsonl)        extra=("$ROOT"/Sources/scopegate/{BatchRunner,BatchSession,BatchProcessor,BatchProcessor+Reference,BatchGrant,BatchRecordWriter,RequestLineReader}.swift) ;;   # as the CLI runs it
  differential) extra=("$ROOT"/Tests/ScopeGateTests/{ReferenceEvaluator,PolicyGenerator}.swift) ;;   # shared, not copied
  jose)         extra=("$ROOT"/Sources/ScopeGateTokens/JOSE/{CompactJWS,StrictJSON,ClaimValue}.swift
                       "$ROOT/Sources/ScopeGateTokens/Support/TokenError.swift") ;;
  request|response) extra=("$ROOT"/Sources/ScopeGateRequestAuthorization/*.swift "$ROOT"/Fuzz/gateway/*.swift
                          "$ROOT/Sources/ScopeGateTesting/GatewayTestPolicy.swift") ;;   # the library, unchanged; the tests' policy
  httphead)     extra=("$ROOT/Sources/ScopeGateHTTP1/RequestHeadParser.swift") ;;   # as both gateways run it
esac
binary=$OUT/fuzz-$target
mapfile -t harness < <(find "$ROOT/Fuzz/$target" "$ROOT/Fuzz/Common" -name '*.swift' | sort)
if [ ! -x "$binary" ] || [ -n "$(find "${harness[@]}" "${extra[@]}" "$CORE_OUT/libScopeGate.a" "$0" ${links[@]:+"${links[@]:2}"} -newer "$binary" | head -1)" ]; then
  echo "== building $binary" >&2
  start=$(date +%s)
  timeout 1800 swiftc -parse-as-library -module-name "Fuzz_$target" -package-name scopegate -O -sanitize=fuzzer,address \
    -I "$CORE_OUT" -I "$ROOT/Sources/CLibYAML" \
    "${extra[@]}" "${harness[@]}" ${links[@]:+"${links[@]}"} "$CORE_OUT/libScopeGate.a" -lyaml -o "$binary" 2>&1 \
    | { grep -v "Cannot export local symbol '__asan" || true; } >&2   # gold's noise about ASan's own symbols
  echo "== built in $(( $(date +%s) - start )) s" >&2
fi
flock -u 9
[ "$build_only" = 1 ] && exit 0

# --- run ----------------------------------------------------------------------------------------------------
work=$OUT/corpus/$target
crashes=$OUT/crashes/$target
mkdir -p "$work" "$crashes"
dict=()
[ -f "Fuzz/$target.dict" ] && dict=("-dict=$ROOT/Fuzz/$target.dict")
log=$OUT/fuzz-$target.log
# LeakSanitizer's known false positives (objects held through Swift's tagged enum payloads, e.g. a fixture
# policy's `when:` expressions kept in a global): scripts/lsan/suppressions.txt, docs/reliability.md.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/scripts/lsan/suppressions.txt:print_suppressions=0}
echo "== fuzzing $target for ${seconds}s (log: $log)" >&2
set +e
timeout $(( seconds + 120 )) "$binary" "$work" "$ROOT/Fuzz/corpus/$target" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
  -artifact_prefix="$crashes/" "${dict[@]}" "$@" >"$log" 2>&1
status=$?
set -e
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
echo "target=$target seconds=$seconds execs=$execs execs_per_sec=$rate ${cov:-} exit=$status"
if [ "$status" != 0 ]; then
  echo "crash or failure; artifacts in $crashes:" >&2
  ls -1 "$crashes" >&2 || true
  grep -m 20 -E 'ERROR|SUMMARY|Fatal error|==[0-9]+==' "$log" >&2 || true
fi
exit "$status"
