#!/usr/bin/env bash
# Measures devstack's embedded proxy against nginx and Caddy, each terminating
# HTTPS in front of the same tiny upstream (bench/proxyupstream, a fixed
# ~100-byte body), over HTTP/1.1 (wrk) and HTTP/2 (h2load), keep-alive.
#
# What every proxy does per request is made the same and printed before the
# run:
#   - TLS 1.3 with X25519 and TLS_AES_128_GCM_SHA256, the same ECDSA P-256
#     leaf (devstack's), session tickets on, no server-side session cache
#     (the negotiated parameters are read back with openssl s_client);
#   - HTTP/2 offered by all three (ALPN), h2 runs use it, h1 runs use 1.1;
#   - one access line per request written to a file: nginx's access_log
#     (buffer=32k flush=50ms, as devstack batches its lines), Caddy's log
#     directive, devstack's own output redirected to a file;
#   - X-Forwarded-Proto/-For/-Host set, upstream keep-alive connections,
#     client keep-alive connections never closed by the proxy.
# Rounds are interleaved (devstack, caddy, nginx, then rotated) so that noise
# spreads over all three. Prints requests/s, p50, p99, CPU per request and
# peak RSS of each proxy, devstack's ratios, and the verdict against the
# goals (>= 1.0x nginx req/s, p99 <= 1.0x nginx, >= 2x Caddy req/s) — only
# when the machine was quiet: the load of other work during the run
# (bench/loadwatch) must not exceed the number of cores.
# Only 127.0.0.1 is ever a target.
#
#   bash bench/proxy.sh                     2 rounds x 8 s x 3 proxies x 2 protocols: ~2.5 min
#   ROUNDS=3 DURATION=10 bash bench/proxy.sh
#   PROTOCOLS=h1 bash bench/proxy.sh        HTTP/1.1 only (h2: HTTP/2 only)
#   CADDY=/path/to/caddy bash bench/proxy.sh
#
# Caddy: $CADDY, else .cache/caddy-v2.11.9/caddy (scripts/setup.sh builds
# it), else 2.11.9 built once under ${XDG_CACHE_HOME:-~/.cache}/devstack-bench,
# else Debian's /usr/bin/caddy.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-8}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
PROTOCOLS=${PROTOCOLS:-h1 h2}
CADDY_VERSION=v2.11.9
cores=$(nproc)

for tool in go wrk h2load nginx openssl curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (run scripts/setup.sh)" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
watcher=""
cleanup() {
  [ -n "$watcher" ] && kill -TERM "$watcher" 2>/dev/null || true
  stop_started
  rm -rf "$work"
}
trap cleanup EXIT

echo "bench: building devstack, the upstream and the load watcher"
go build -o "$work/loadwatch" ./bench/loadwatch
"$work/loadwatch" -root $$ >"$work/load.txt" &
watcher=$!
go build -o "$work/devstack" .
go build -o "$work/upstream" ./bench/proxyupstream


# start and wait_for come from bench/lib.sh.

# wait_https PORT: waits until a TLS server answers on 127.0.0.1:PORT.
wait_https() {
  for _ in $(seq 300); do
    curl -skf -o /dev/null "https://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  echo "bench: nothing answers on https://127.0.0.1:$1" >&2; exit 1
}

caddy=${CADDY:-}
if [ -z "$caddy" ] && [ -x ".cache/caddy-$CADDY_VERSION/caddy" ]; then caddy=".cache/caddy-$CADDY_VERSION/caddy"; fi
if [ -z "$caddy" ]; then
  gobin="${XDG_CACHE_HOME:-$HOME/.cache}/devstack-bench/caddy-$CADDY_VERSION"
  if [ ! -x "$gobin/caddy" ]; then
    echo "bench: building Caddy $CADDY_VERSION into $gobin (once)"
    GOBIN="$gobin" go install "github.com/caddyserver/caddy/v2/cmd/caddy@$CADDY_VERSION" >&2 || true
  fi
  if [ -x "$gobin/caddy" ]; then caddy="$gobin/caddy"; else caddy=$(command -v caddy || true); fi
fi
[ -n "$caddy" ] || { echo "bench: no Caddy (set CADDY or install caddy)" >&2; exit 1; }

ports=($("$work/upstream" -free-ports 4))
up_port=${ports[0]} devstack_port=${ports[1]} caddy_port=${ports[2]} nginx_port=${ports[3]}

start upstream "$work/upstream" -listen "127.0.0.1:$up_port"
wait_for "$work/upstream.log" "127.0.0.1:$up_port"

# devstack: its own CA and cache, as a user's first run; its access lines go
# to a file.
export CAROOT="$work/ca" DEVSTACK_CACHE_DIR="$work/cache"
start devstack "$work/devstack" proxy --to "http://127.0.0.1:$up_port" --port "$devstack_port" --host 127.0.0.1
wait_for "$work/devstack.log" "ready https://localhost:$devstack_port"
leaf=$(find "$work/cache" -name 'localhost.pem' | head -1)
leaf_key=$(find "$work/cache" -name 'localhost-key.pem' | head -1)
[ -n "$leaf" ] && [ -n "$leaf_key" ] || { echo "bench: devstack's leaf certificate not found under $work/cache" >&2; exit 1; }

# Caddy: devstack's leaf, X25519, TLS 1.3, an access log file, no admin
# endpoint, no trust-store changes, data in $work.
mkdir -p "$work/caddy-home"
cat >"$work/Caddyfile" <<EOF
{
	admin off
	skip_install_trust
	auto_https disable_redirects
	storage file_system $work/caddy-data
	default_sni localhost
}
https://localhost:$caddy_port, https://127.0.0.1:$caddy_port {
	bind 127.0.0.1
	tls $leaf $leaf_key {
		protocols tls1.3
		curves x25519
	}
	log {
		output file $work/caddy-access.log
	}
	reverse_proxy 127.0.0.1:$up_port
}
EOF
HOME="$work/caddy-home" XDG_DATA_HOME="$work/caddy-home" XDG_CONFIG_HOME="$work/caddy-home" \
  start caddy "$caddy" run --config "$work/Caddyfile" --adapter caddyfile
wait_https "$caddy_port"

# nginx: devstack's leaf, X25519, TLS 1.3 with AES-128-GCM, upstream
# keepalive, HTTP/2, a buffered access log, everything it writes in $work.
mkdir -p "$work/nginx"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$work/nginx.conf" <<EOF
$user_line
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
	access_log $work/nginx/access.log combined buffer=32k flush=50ms;
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	upstream app {
		server 127.0.0.1:$up_port;
		keepalive 64;
	}
	server {
		listen 127.0.0.1:$nginx_port ssl http2;
		ssl_certificate $leaf;
		ssl_certificate_key $leaf_key;
		ssl_protocols TLSv1.3;
		ssl_ecdh_curve X25519;
		ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
		ssl_session_tickets on;
		# devstack and Caddy never close a busy keep-alive connection;
		# nginx's defaults would after 1000 requests (h2: a GOAWAY that
		# h2load does not follow).
		keepalive_requests 1000000;
		http2_max_requests 1000000;
		location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host \$http_host;
			proxy_set_header X-Forwarded-Proto https;
			proxy_set_header X-Forwarded-For \$remote_addr;
			proxy_set_header X-Forwarded-Host \$http_host;
		}
	}
}
EOF
start nginx nginx -c "$work/nginx.conf" -p "$work/nginx"
wait_https "$nginx_port"

# Everyone answers with the upstream's body, over both protocols, before the
# clock starts; the TLS parameters each one negotiates are printed.
echo
echo "proxy     TLS negotiated with wrk's OpenSSL (protocol, group, cipher)         HTTP/2"
for name in devstack caddy nginx; do
  port_var="${name}_port"; port=${!port_var}
  curl -skf "https://127.0.0.1:$port/" | grep -q "benchmark upstream" || { echo "bench: $name on $port does not reach the upstream" >&2; exit 1; }
  h2=$(curl -sk --http2 -o /dev/null -w '%{http_version}' "https://127.0.0.1:$port/")
  tls=$(openssl s_client -connect "127.0.0.1:$port" -servername localhost -alpn http/1.1 </dev/null 2>/dev/null |
    awk '/^New, / {proto=$2; cipher=$NF} /Server Temp Key|Negotiated TLS1.3 group/ {sub(/.*: /, ""); group=$0} END {printf "%s %s %s", proto, group, cipher}')
  printf "%-9s %-64s %s\n" "$name" "$tls" "$([ "$h2" = 2 ] && echo yes || echo "no ($h2)")"
done

# rss_kb PID: VmRSS of PID and its children (nginx workers), in kB.
rss_kb() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# cpu_split, hz and to_ms come from bench/lib.sh.

# load PROTO PORT OUT: one measured run; writes "requests req/s p50 p99" to OUT.
load() {
  local proto=$1 port=$2 out=$3
  if [ "$proto" = h1 ]; then
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "https://127.0.0.1:$port/" >"$work/run.txt"
    if grep -qE "Non-2xx|Socket errors" "$work/run.txt"; then grep -E "Non-2xx|Socket errors" "$work/run.txt" >&2; fi
    awk -v p50="$(to_ms "$(awk '$1 == "50%" {print $2}' "$work/run.txt")")" \
        -v p99="$(to_ms "$(awk '$1 == "99%" {print $2}' "$work/run.txt")")" \
        '/requests in/ {n = $1} /^Requests\/sec:/ {r = $2} END {print n, r, p50, p99}' "$work/run.txt" >"$out"
  else
    # HTTP/2: CONNECTIONS streams in flight, as 8 connections x CONNECTIONS/8 streams.
    local conns=8 streams=$((CONNECTIONS / 8))
    rm -f "$work/h2.log"
    h2load -t"$THREADS" -c"$conns" -m"$streams" -D"$DURATION" --warm-up-time=1 \
      --log-file="$work/h2.log" "https://127.0.0.1:$port/" >"$work/run.txt" 2>&1
    if ! grep -qE "requests: .* [1-9][0-9]* succeeded" "$work/run.txt"; then cat "$work/run.txt" >&2; fi
    grep -E "requests: .* [1-9][0-9]* failed|[1-9][0-9]* errored" "$work/run.txt" >&2 || true
    local rps n
    rps=$(awk '/^finished in/ {for (i = 1; i <= NF; i++) if ($(i) ~ /req\/s/) {v = $(i - 1)}; print v + 0}' "$work/run.txt")
    n=$(wc -l <"$work/h2.log")
    sort -n -k3 "$work/h2.log" | awk -v n="$n" -v rps="$rps" '
      {d[NR] = $3}
      END {i50 = int(n * 0.50); i99 = int(n * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
           printf "%d %s %.3f %.3f\n", n, rps, d[i50] / 1000, d[i99] / 1000}' >"$out"
  fi
}

# per_req TICKS: CPU ticks over the run's $requests, in µs per request.
# The table gives user+system, then user (the proxy's own code) and system
# (the kernel's work for its syscalls) apart.
per_req() { awk -v t="$1" -v hz="$hz" -v n="$requests" 'BEGIN {printf "%.1f", (n > 0) ? t / hz * 1e6 / n : 0}'; }

declare -A rps p50 p99 peak cpu cpu_user cpu_sys
names=(devstack caddy nginx)
echo
echo "bench: $ROUNDS interleaved rounds of ${DURATION} s per proxy and protocol, $CONNECTIONS requests in flight (h1: wrk -t$THREADS -c$CONNECTIONS; h2: h2load -c8 -m$((CONNECTIONS / 8))), $cores CPUs shared with the load generator and the upstream"
for proto in $PROTOCOLS; do
  for name in "${names[@]}"; do
    rps[$proto.$name]=""; p50[$proto.$name]=""; p99[$proto.$name]=""; cpu[$proto.$name]=""; peak[$proto.$name]=0
    cpu_user[$proto.$name]=""; cpu_sys[$proto.$name]=""
  done
  for round in $(seq "$ROUNDS"); do
    for i in 0 1 2; do
      name=${names[$(( (i + round - 1) % 3 ))]}
      port_var="${name}_port"; pid_var="pid_$name"
      port=${!port_var}; pid=${!pid_var}
      read -r user_before sys_before < <(cpu_split "$pid")
      load "$proto" "$port" "$work/result.txt" &
      load_pid=$!
      while kill -0 "$load_pid" 2>/dev/null; do
        kb=$(rss_kb "$pid")
        [ "$kb" -gt "${peak[$proto.$name]}" ] && peak[$proto.$name]=$kb
        sleep 0.5
      done
      wait "$load_pid"
      read -r user_after sys_after < <(cpu_split "$pid")
      read -r requests r l50 l99 <"$work/result.txt"
      us_user=$(per_req $((user_after - user_before)))
      us_sys=$(per_req $((sys_after - sys_before)))
      us=$(per_req $((user_after - user_before + sys_after - sys_before)))
      printf "%s round %d  %-8s %10.0f req/s  p50 %7.3f ms  p99 %7.3f ms  CPU %6.1f µs/req (user %5.1f, sys %5.1f)\n" "$proto" "$round" "$name" "$r" "$l50" "$l99" "$us" "$us_user" "$us_sys"
      rps[$proto.$name]+="$r "; p50[$proto.$name]+="$l50 "; p99[$proto.$name]+="$l99 "; cpu[$proto.$name]+="$us "
      cpu_user[$proto.$name]+="$us_user "; cpu_sys[$proto.$name]+="$us_sys "
    done
  done
done

kill -TERM "$watcher"; wait "$watcher" || true; watcher=""

# The access logs really were written.
lines() { wc -l <"$1" 2>/dev/null || echo 0; }
echo
echo "access lines written: devstack $(grep -c '^proxy | GET' "$work/devstack.log" || true), caddy $(lines "$work/caddy-access.log"), nginx $(lines "$work/nginx/access.log")"


caddy_version="caddy $("$caddy" version 2>/dev/null | awk '{print $1}')"
case $caddy_version in "caddy unknown" | "caddy ") case $caddy in *"caddy-$CADDY_VERSION"*) caddy_version="caddy $CADDY_VERSION" ;; esac ;; esac
nginx_version="$(nginx -v 2>&1 | sed 's/.*version: //')"
verdict_block=""
for proto in $PROTOCOLS; do
  echo
  echo "$proto  proxy     version                        req/s (median)   p50 ms   p99 ms  CPU µs/req   user    sys  peak RSS MiB"
  declare -A m_rps m_p99 m_cpu
  for name in "${names[@]}"; do
    m_rps[$name]=$(echo "${rps[$proto.$name]}" | median)
    m50=$(echo "${p50[$proto.$name]}" | median)
    m_p99[$name]=$(echo "${p99[$proto.$name]}" | median)
    m_cpu[$name]=$(echo "${cpu[$proto.$name]}" | median)
    case $name in
      devstack) version="devstack $(git rev-parse --short HEAD 2>/dev/null || echo dev)" ;;
      caddy) version=$caddy_version ;;
      nginx) version=$nginx_version ;;
    esac
    printf "%-4s %-9s %-30s %14.0f %8.3f %8.3f %11.1f %6.1f %6.1f %13.1f\n" "$proto" "$name" "$version" "${m_rps[$name]}" "$m50" "${m_p99[$name]}" "${m_cpu[$name]}" \
      "$(echo "${cpu_user[$proto.$name]}" | median)" "$(echo "${cpu_sys[$proto.$name]}" | median)" "$(echo "${peak[$proto.$name]}" | awk '{print $1/1024}')"
  done
  verdict_block+=$(awk -v proto="$proto" -v d="${m_rps[devstack]}" -v c="${m_rps[caddy]}" -v n="${m_rps[nginx]}" \
      -v dp="${m_p99[devstack]}" -v np="${m_p99[nginx]}" \
      -v dc="${m_cpu[devstack]}" -v cc="${m_cpu[caddy]}" -v nc="${m_cpu[nginx]}" 'BEGIN {
    printf "%s devstack req/s vs nginx:  %.2fx  (goal >= 1.00x)  %s\n", proto, d / n, (d / n >= 1.0 ? "met" : "MISSED")
    printf "%s devstack p99 vs nginx:    %.2fx  (goal <= 1.00x)  %s\n", proto, dp / np, (dp / np <= 1.0 ? "met" : "MISSED")
    printf "%s devstack req/s vs Caddy:  %.2fx  (goal >= 2.00x)  %s\n", proto, d / c, (d / c >= 2.0 ? "met" : "MISSED")
    printf "%s CPU per request, devstack vs nginx: %.2fx, vs Caddy: %.2fx\n", proto, dc / nc, dc / cc
  }')$'\n'
done

echo
cat "$work/load.txt" | head -1
if grep -q "^verdict allowed" "$work/load.txt"; then
  printf "%s" "$verdict_block"
else
  printf "%s" "$verdict_block" | sed 's/  met$//; s/  MISSED$//'
  sed -n 2p "$work/load.txt"
fi
echo "(medians of $ROUNDS interleaved rounds of ${DURATION} s)"
