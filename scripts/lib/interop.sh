# scripts/lib/interop.sh — what every interop, drill and benchmark script shares. Source it, then call
# `interop_init`:
#
#   source "$(dirname "$0")/lib/interop.sh"
#   interop_init gateway-interop "${GATEWAY_INTEROP_WORKDIR:-}"   # NAME [WORKDIR]; sets $ROOT and $WORK, cds to $ROOT
#   need_tools glewlwyd sqlite3 curl                              # apt-get install when root, else a clear failure
#   some-server --port "$(free_port)" >"$WORK/server.log" 2>&1 &
#   PIDS+=($!)                                                    # stopped by the EXIT trap
#   wait_port "$PORT" "$!" "$WORK/server.log"                     # PORT PID [LOG or NAME]
#
# Messages: `say` starts a step, `ok` reports a passed check, `die` fails the script with NAME in the message.
# The EXIT trap (`interop_cleanup`) stops every process in PIDS, then Glewlwyd for every $WORK/idp*/glewlwyd.pid
# (scripts/glewlwyd-up.sh writes it), runs the function named by INTEROP_ON_EXIT if set (e.g. `nginx -s stop`),
# and on failure prints the last 30 lines of every $WORK/*.log. Every step is bounded: callers wrap long commands
# in `timeout`.

INTEROP_NAME=interop
PIDS=()

die() { printf '%s: FAIL: %s\n' "$INTEROP_NAME" "$*" >&2; exit 1; }
say() { printf '\n== %s\n' "$*"; }
ok() { printf '  ok: %s\n' "$*"; }

# A TCP port free on 127.0.0.1 now (the kernel picks it; a race with another process is possible but harmless
# here: the server then fails to bind and `wait_port` reports it).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits up to 30 s for 127.0.0.1:PORT to accept a connection; fails at once when PID (if given) exits first,
# printing LOG when the third argument is a file (else naming it).
wait_port() { # PORT [PID] [LOG|NAME]
  local port=$1 pid=${2:-} what=${3:-process}
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      [[ -f $what ]] && tail -n 40 "$what" >&2
      die "$what exited before listening on 127.0.0.1:$port"
    fi
    sleep 0.1
  done
  die "nothing listens on 127.0.0.1:$port ($what)"
}

# Installs what is missing with apt-get when running as root (package name = command name unless given as
# COMMAND=PACKAGE), then fails clearly if anything is still missing.
need_tools() { # COMMAND[=PACKAGE]…
  local spec missing=() packages=()
  for spec in "$@"; do
    command -v "${spec%%=*}" >/dev/null 2>&1 && continue
    missing+=("${spec%%=*}"); packages+=("${spec#*=}")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    timeout 300 apt-get update -qq && timeout 600 apt-get install -y -qq "${packages[@]}" >/dev/null || true
  fi
  for spec in "${missing[@]}"; do
    command -v "$spec" >/dev/null 2>&1 || die "\`$spec\` is not installed (apt-get install ${packages[*]})"
  done
}

interop_cleanup() {
  local rc=$?
  trap '' TERM
  set +e
  local pid idp gp log
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  for idp in "$WORK"/idp*; do
    [[ -s $idp/glewlwyd.pid ]] || continue
    gp=$(cat "$idp/glewlwyd.pid")
    kill "$gp" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$gp" 2>/dev/null || break; sleep 0.1; done
  done
  [[ -n ${INTEROP_ON_EXIT:-} ]] && "$INTEROP_ON_EXIT"
  if [[ $rc != 0 ]]; then
    for log in "$WORK"/*.log; do [[ -s $log ]] && { echo "--- $log (last 30 lines)"; tail -n 30 "$log"; }; done
  fi
  exit "$rc"
}

# NAME names the script in failures; WORKDIR (default: a new temp dir) becomes an absolute $WORK.
interop_init() { # NAME [WORKDIR]
  INTEROP_NAME=$1
  export SWIFT_BACKTRACE=enable=no
  ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  cd "$ROOT"
  WORK=${2:-}
  [[ -n $WORK ]] || WORK=$(mktemp -d "/tmp/scopegate-$1.XXXXXX")
  mkdir -p "$WORK"
  WORK=$(cd "$WORK" && pwd)
  trap interop_cleanup EXIT
}

# Starts Debian's nginx in the foreground (in PIDS, so the EXIT trap stops it) with HTTP_BODY as the inside of
# its `http { }` block; pid, error log ($WORK/nginx-error.log) and temp files live under $WORK/nginx. Waits for
# every PORT given. HTTP_BODY holds only what differs between callers: upstreams and servers.
start_nginx() { # HTTP_BODY PORT…
  local body=$1 port
  shift
  mkdir -p "$WORK/nginx"
  cat >"$WORK/nginx.conf" <<EOF_NGINX
daemon off; pid $WORK/nginx/nginx.pid; error_log $WORK/nginx-error.log warn;
worker_processes auto;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
$body
}
EOF_NGINX
  nginx -c "$WORK/nginx.conf" -p "$WORK/nginx" &
  PIDS+=($!)
  for port in "$@"; do wait_port "$port" "${PIDS[-1]}" "$WORK/nginx-error.log"; done
}
