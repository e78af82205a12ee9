# scripts/gateway-drills/limits.sh — the limits step of scripts/gateway-drills.sh (sourced; uses its $WORK,
# $GATEWAY, $MCP_ISSUER, $MCP_RESOURCE, PIDS and the interop.sh helpers). Real HTTP with curl against a second
# proxy started with --max-streams 2 --max-streams-per-principal 1 (default head limits: 32 KiB, 100 fields):
#   - a 40 KiB head → 431 with JSON-RPC -32600 and `request.header_too_large`, never forwarded;
#   - a 100 KiB head (past SwiftNIO's parser cap, 80 KiB) → what curl sees (400 and the connection closed);
#   - alice holds a stream (`long`, 5 s), her second → 429 `stream.principal_limit`; bob holds one, carol → 503
#     `stream.limit` with Retry-After; none of the refused reaches the upstream;
#   - once the streams end, `scopegate_streams_open` is 0 and the refusals are counted in /metrics.
# Each curl is bounded (--max-time); the step takes about 6 s, most of it the two 5 s streams.

limits_step() {
  local port up log body status
  port=$(free_port)
  up=$(free_port)
  log="$WORK/limits-upstream.log"
  : >"$log"
  say "limits: proxy on :$port (--max-streams 2 --max-streams-per-principal 1) → upstream :$up"
  python3 scripts/gateway-drills/upstream.py "$up" "$log" >"$WORK/limits-upstream.out" 2>&1 &
  PIDS+=($!)
  "$GATEWAY" proxy --policy "$WORK/policy.yaml" --jwks "$WORK/jwks.json" --listen "127.0.0.1:$port" \
    --upstream "http://127.0.0.1:$up/mcp" --max-streams 2 --max-streams-per-principal 1 \
    >"$WORK/limits-proxy.log" 2>&1 &
  PIDS+=($!)
  wait_port "$up"
  wait_port "$port" "$!" "$WORK/limits-proxy.log"

  local mint='import sys; sys.path.insert(0, "scripts/gateway-drills"); from drills import Minter
m = Minter(sys.argv[1], sys.argv[2], sys.argv[3]); print(" ".join(m.token("files:read", s) for s in sys.argv[4:]))'
  local alice bob carol
  read -r alice bob carol < <(python3 -c "$mint" "$WORK" "$MCP_ISSUER" "$MCP_RESOURCE" alice bob carol)

  # post TOKEN TOOL OUT [curl args…]: a tools/call; the head and body go to OUT, the status is printed.
  post() {
    local token=$1 tool=$2 out=$3
    shift 3
    curl -sS -N --max-time 20 -o "$out" -D "$out.head" -w '%{http_code}' "http://127.0.0.1:$port/mcp" \
      -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
      -H 'MCP-Protocol-Version: 2025-11-25' -H "Authorization: Bearer $token" "$@" \
      --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"$tool\",\"arguments\":{}}}"
  }

  status=$(post "$alice" read_file "$WORK/limits-431" -H "X-Padding: $(head -c 40960 /dev/zero | tr '\0' x)")
  [[ $status == 431 ]] || die "a 40 KiB head: expected 431, got $status"
  grep -q '"code":-32600' "$WORK/limits-431" && grep -q 'request.header_too_large' "$WORK/limits-431" \
    || die "the 431 body lacks the JSON-RPC error: $(cat "$WORK/limits-431")"
  ok "a 40 KiB head → 431, $(cat "$WORK/limits-431")"

  status=$(post "$alice" read_file "$WORK/limits-400" -H "X-Padding: $(head -c 102400 /dev/zero | tr '\0' x)" \
    2>"$WORK/limits-400.err" || true)
  [[ $status == 400 || $status == 000 ]] || die "a 100 KiB head: expected 400 or a closed connection, got $status"
  ok "a 100 KiB head (over the parser's 80 KiB) → ${status/000/no answer: $(head -c 200 "$WORK/limits-400.err")}$(
    grep -qi '^connection: close' "$WORK/limits-400.head" 2>/dev/null && echo ', Connection: close')"
  [[ ! -s $log ]] || die "a refused head reached the upstream: $(cat "$log")"

  # hold_stream TOKEN NAME: opens a stream in the background (its PID in HELD) and waits for its first event.
  hold_stream() {
    post "$1" long "$WORK/limits-$2" >"$WORK/limits-$2.status" &
    HELD=$!
    for _ in $(seq 100); do grep -q '^data:' "$WORK/limits-$2" 2>/dev/null && break; sleep 0.05; done
  }
  # expect_refusal TOKEN STATUS REASON WHAT: one more stream is refused with STATUS, Retry-After and REASON.
  expect_refusal() {
    local out="$WORK/limits-$2" status
    status=$(post "$1" long "$out")
    [[ $status == "$2" ]] || die "$4: expected $2, got $status"
    grep -qi '^retry-after:' "$out.head" && grep -q "\"$3\"" "$out" \
      || die "the $2 lacks Retry-After or its reason: $(cat "$out.head" "$out")"
    ok "$4 → $2, $(cat "$out")"
  }

  hold_stream "$alice" alice
  local alice_pid=$HELD
  expect_refusal "$alice" 429 stream.principal_limit "alice's second stream"

  hold_stream "$bob" bob
  local bob_pid=$HELD
  expect_refusal "$carol" 503 stream.limit "a third stream (carol)"
  [[ $(grep -c '^long$' "$log") == 2 ]] || die "the upstream saw $(grep -c '^long$' "$log") streams, not 2"
  ok "the upstream saw only the 2 admitted streams"

  wait "$alice_pid" "$bob_pid" || true
  grep -q '"done":true' "$WORK/limits-alice" && grep -q '"done":true' "$WORK/limits-bob" \
    || die "an admitted stream did not end with its result"
  local metrics
  metrics=$(curl -sS --max-time 5 "http://127.0.0.1:$port/metrics")
  grep -q '^scopegate_streams_open 0' <<<"$metrics" || die "streams still open: $(grep streams_open <<<"$metrics")"
  for series in 'reason="request.header_too_large"} 1' 'reason="stream.principal_limit"} 1' 'reason="stream.limit"} 1'; do
    grep -qF "scopegate_limit_refusals_total{$series" <<<"$metrics" \
      || die "/metrics lacks scopegate_limit_refusals_total{$series: $(grep limit_refusals <<<"$metrics")"
  done
  status=$(post "$carol" stream "$WORK/limits-after")
  [[ $status == 200 ]] || die "after the streams ended carol got $status"
  ok "streams ended: scopegate_streams_open 0, refusals counted, carol served"
}
