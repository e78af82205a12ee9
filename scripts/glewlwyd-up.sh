#!/usr/bin/env bash
# scripts/glewlwyd-up.sh WORKDIR PORT
#
# Starts Glewlwyd 2.7 (Debian package `glewlwyd`) on 127.0.0.1:PORT as a real OAuth 2 / OIDC
# authorization server for ScopeGate's integration tests. Installs nothing: needs `glewlwyd`,
# `sqlite3` and `openssl` on PATH (CI: apt-get install glewlwyd sqlite3).
#
# Configures, entirely by SQL before start:
#   * a confidential client `mcp-client` (secret $GLEWLWYD_CLIENT_SECRET, default mcp-secret) allowed
#     the client_credentials grant, HTTP Basic or POST client authentication;
#   * scopes mcp:tools:climate, mcp:data:client-info:read, read:files (override: GLEWLWYD_SCOPES);
#   * RS256-signed JWT access tokens (typ at+jwt) with the kid of the published JWKS;
#   * RFC 8707 resource indicators: resource=$GLEWLWYD_RESOURCE (default https://mcp.test/mcp)
#     becomes `aud`; https://other.test/mcp is also allowed (a "wrong audience" token);
#   * RFC 7662 introspection for the client itself.
# Issuer: http://127.0.0.1:PORT/api/oidc (OIDC discovery under it; no RFC 8414 document).
#
# Everything lives in WORKDIR: glewlwyd.conf, glewlwyd.db, private.pem, glewlwyd.log,
# glewlwyd.pid (the server PID) and env.sh (the values below as shell exports).
# Stop: kill "$(cat WORKDIR/glewlwyd.pid)" — shutdown takes ~2 s; wait for the PID to exit.
set -euo pipefail

DIR=${1:?usage: $0 WORKDIR PORT}
PORT=${2:?usage: $0 WORKDIR PORT}
HOST=127.0.0.1
CLIENT_ID=mcp-client
CLIENT_SECRET=${GLEWLWYD_CLIENT_SECRET:-mcp-secret}
RESOURCE=${GLEWLWYD_RESOURCE:-https://mcp.test/mcp}
OTHER_RESOURCE=https://other.test/mcp
SCOPES=${GLEWLWYD_SCOPES:-mcp:tools:climate mcp:data:client-info:read read:files}
AT_TTL=${GLEWLWYD_AT_TTL:-3600}
PLUGIN=oidc
ISSUER="http://$HOST:$PORT/api/$PLUGIN"

die() { printf 'glewlwyd-up: error: %s\n' "$*" >&2; exit 1; }
for tool in glewlwyd sqlite3 openssl; do
  command -v "$tool" >/dev/null 2>&1 || die "\`$tool\` not found (apt-get install glewlwyd sqlite3 openssl)"
done
[[ $PORT =~ ^[0-9]+$ ]] || die "PORT must be a number"

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
DB=$DIR/glewlwyd.db
CONF=$DIR/glewlwyd.conf
PIDFILE=$DIR/glewlwyd.pid
LOGFILE=$DIR/glewlwyd.log

if [[ -s $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  die "a glewlwyd from $DIR is already running (pid $(cat "$PIDFILE"))"
fi
if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
  die "$HOST:$PORT is in use; pick another port"
fi

# Schema shipped by the Debian package (the gzip'd copy may be stripped from slim images).
rm -f "$DB"
if [[ -r /usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz ]]; then
  gzip -dc /usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz | sqlite3 "$DB"
elif [[ -r /usr/share/dbconfig-common/data/glewlwyd/install/sqlite3 ]]; then
  sqlite3 "$DB" < /usr/share/dbconfig-common/data/glewlwyd/install/sqlite3
else
  die "glewlwyd's SQLite schema not found"
fi

[[ -s $DIR/private.pem ]] || openssl genrsa -out "$DIR/private.pem" 2048 2>/dev/null
openssl rsa -in "$DIR/private.pem" -pubout -out "$DIR/public.pem" 2>/dev/null
json_pem() { awk 'BEGIN{ORS=""} {gsub(/\r/,""); print $0 "\\n"}' "$1"; }
json_list() { local out= s; for s in "$@"; do out+="${out:+,}\"$s\""; done; printf '[%s]' "$out"; }

read -r -a SCOPE_LIST <<<"$SCOPES"
RESOURCES=$(json_list "$RESOURCE" "$OTHER_RESOURCE")
RESOURCE_SCOPE=
for s in "${SCOPE_LIST[@]}"; do RESOURCE_SCOPE+="${RESOURCE_SCOPE:+,}\"$s\":$RESOURCES"; done

PARAMS=$(cat <<EOF_JSON | tr -d '\n'
{"iss":"$ISSUER","jwt-type":"rsa","jwt-key-size":"256","key":"$(json_pem "$DIR/private.pem")",
 "cert":"$(json_pem "$DIR/public.pem")","jwks-show":true,"subject-type":"public",
 "access-token-duration":$AT_TTL,"refresh-token-duration":1209600,"code-duration":600,
 "refresh-token-rolling":false,"allow-non-oidc":true,"auth-type-code-enabled":false,
 "auth-type-token-enabled":false,"auth-type-none-enabled":false,"auth-type-password-enabled":false,
 "auth-type-client-enabled":true,"auth-type-device-enabled":false,"auth-type-refresh-enabled":false,
 "scope":[],"allowed-scope":$(json_list openid "${SCOPE_LIST[@]}"),
 "resource-allowed":true,"resource-scope":{$RESOURCE_SCOPE},"resource-client-property":"resource",
 "resource-scope-and-client-property":false,"introspection-revocation-allowed":true,
 "introspection-revocation-allow-target-client":true,"introspection-revocation-auth-scope":[]}
EOF_JSON
)

sql() { printf "'%s'" "${1//\'/\'\'}"; }
{
  echo "BEGIN;"
  echo "INSERT INTO g_plugin_module_instance (gpmi_module, gpmi_name, gpmi_display_name, gpmi_parameters, gpmi_enabled) VALUES ('oidc', '$PLUGIN', 'OIDC', $(sql "$PARAMS"), 1);"
  for s in "${SCOPE_LIST[@]}"; do
    echo "INSERT INTO g_scope (gs_name, gs_display_name, gs_description, gs_password_required, gs_password_max_age) VALUES ($(sql "$s"), $(sql "$s"), $(sql "$s"), 0, 0);"
    echo "INSERT INTO g_client_scope (gcs_name) VALUES ($(sql "$s"));"
  done
  echo "INSERT INTO g_client (gc_client_id, gc_name, gc_description, gc_confidential, gc_enabled) VALUES ('$CLIENT_ID', 'MCP client', 'client_credentials client for ScopeGate tests', 1, 1);"
  CID="(SELECT gc_id FROM g_client WHERE gc_client_id='$CLIENT_ID')"
  for s in "${SCOPE_LIST[@]}"; do
    echo "INSERT INTO g_client_scope_client (gc_id, gcs_id) VALUES ($CID, (SELECT gcs_id FROM g_client_scope WHERE gcs_name=$(sql "$s")));"
  done
  prop() { echo "INSERT INTO g_client_property (gc_id, gcp_name, gcp_value) VALUES ($CID, $(sql "$1"), $(sql "$2"));"; }
  prop client_secret "$CLIENT_SECRET"
  prop authorization_type client_credentials
  prop token_endpoint_auth_method client_secret_basic
  prop token_endpoint_auth_method client_secret_post
  prop resource "$RESOURCE"
  prop resource "$OTHER_RESOURCE"
  echo "COMMIT;"
} | sqlite3 "$DB"

mkdir -p "$DIR/no-middleware"
# Do not set use_secure_connection (false still makes 2.7.5 demand TLS files).
cat > "$CONF" <<EOF_CONF
port=$PORT
bind_address="$HOST"
external_url="http://$HOST:$PORT"
login_url="login.html"
api_prefix="api"
allow_origin="*"
log_mode="console"
log_level="${GLEWLWYD_LOG_LEVEL:-WARNING}"
cookie_domain="$HOST"
cookie_secure=0
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
login_api_enabled=true
plugin_api_run_enabled=""
add_x_frame_option_header_deny=true
max_post_size=16778240
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="/usr/lib/glewlwyd/user"
user_middleware_module_path="$DIR/no-middleware"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
hash_algorithm="SHA512"
database =
{
  type = "sqlite3"
  path = "$DB"
};
response_allowed_compression="deflate,gzip"
EOF_CONF

nohup glewlwyd --config-file="$CONF" >"$LOGFILE" 2>&1 </dev/null &
PID=$!
echo "$PID" > "$PIDFILE"

# Wait (≤ 15 s) until the port accepts connections.
for _ in $(seq 1 150); do
  kill -0 "$PID" 2>/dev/null || { tail -n 30 "$LOGFILE" >&2; rm -f "$PIDFILE"; die "glewlwyd exited during startup (log: $LOGFILE)"; }
  if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then break; fi
  sleep 0.1
done
(exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null || { kill "$PID" 2>/dev/null || true; rm -f "$PIDFILE"; die "glewlwyd did not listen on $HOST:$PORT"; }

cat > "$DIR/env.sh" <<EOF_ENV
export GLEWLWYD_PID=$PID
export GLEWLWYD_ISSUER=$ISSUER
export GLEWLWYD_TOKEN_ENDPOINT=$ISSUER/token
export GLEWLWYD_INTROSPECTION_ENDPOINT=$ISSUER/introspect
export GLEWLWYD_JWKS_URL=$ISSUER/jwks
export GLEWLWYD_CLIENT_ID=$CLIENT_ID
export GLEWLWYD_CLIENT_SECRET=$CLIENT_SECRET
export GLEWLWYD_RESOURCE=$RESOURCE
export GLEWLWYD_OTHER_RESOURCE=$OTHER_RESOURCE
export GLEWLWYD_SCOPES="$SCOPES"
EOF_ENV
echo "glewlwyd up: pid $PID issuer $ISSUER (env: $DIR/env.sh)"
