# shellcheck shell=bash
# Redis for the test suite, sourced by .ci/run:
#   source .ci/redis.sh; ensure_redis; start_redis; trap stop_redis EXIT; npm test
# start_redis runs one throwaway redis-server on loopback (no persistence, a temp dir) listening on
# a free plain port and a free TLS port with a fresh self-signed certificate, and exports
#   HEIST_TEST_REDIS_URL   redis://127.0.0.1:PORT     (tests that never stop Redis use it)
#   HEIST_TEST_REDISS_URL  rediss://127.0.0.1:TLSPORT (the rediss:// limit-store conformance run)
#   NODE_EXTRA_CA_CERTS    the certificate, so Node trusts the TLS port
# Tests that stop and restart Redis start their own servers (test/helpers/redis.ts).

# Installs redis-server (and openssl, for the TLS certificate) when missing. Needs root (CI is).
ensure_redis() {
  local need=()
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  if [ "${#need[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  redis-server --version
}

_heist_free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start_redis() {
  HEIST_REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/heist-redis.XXXXXX")
  local port tls_port
  port=$(_heist_free_port)
  tls_port=$(_heist_free_port)
  while [ "$tls_port" = "$port" ]; do tls_port=$(_heist_free_port); done
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
    -keyout "$HEIST_REDIS_DIR/key.pem" -out "$HEIST_REDIS_DIR/cert.pem" >/dev/null 2>&1
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$HEIST_REDIS_DIR" \
    --tls-port "$tls_port" --tls-cert-file "$HEIST_REDIS_DIR/cert.pem" --tls-key-file "$HEIST_REDIS_DIR/key.pem" \
    --tls-ca-cert-file "$HEIST_REDIS_DIR/cert.pem" --tls-auth-clients no \
    --daemonize yes --pidfile "$HEIST_REDIS_DIR/redis.pid" --logfile "$HEIST_REDIS_DIR/redis.log"
  local i
  for i in $(seq 1 100); do
    if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
      export HEIST_REDIS_DIR
      export HEIST_TEST_REDIS_URL="redis://127.0.0.1:$port"
      export HEIST_TEST_REDISS_URL="rediss://127.0.0.1:$tls_port"
      export NODE_EXTRA_CA_CERTS="$HEIST_REDIS_DIR/cert.pem"
      echo "redis: $HEIST_TEST_REDIS_URL, $HEIST_TEST_REDISS_URL"
      return 0
    fi
    sleep 0.1
  done
  echo "redis-server did not start:" >&2
  cat "$HEIST_REDIS_DIR/redis.log" >&2 || true
  return 1
}

stop_redis() {
  [ -n "${HEIST_REDIS_DIR:-}" ] || return 0
  local pidfile="$HEIST_REDIS_DIR/redis.pid" pid i
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$HEIST_REDIS_DIR"
  unset HEIST_REDIS_DIR HEIST_TEST_REDIS_URL HEIST_TEST_REDISS_URL NODE_EXTRA_CA_CERTS
}
