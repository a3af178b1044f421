#!/usr/bin/env bash
# Measures devstack's embedded proxy against Caddy and nginx, each terminating
# HTTPS in front of the same tiny upstream (bench/proxyupstream, a fixed
# ~100-byte body), with wrk over HTTPS keep-alive. Rounds are interleaved
# (devstack, caddy, nginx, devstack, …) so that noise from other work on the
# machine spreads over all three. Prints requests/s, p50, p99 and peak RSS of
# each proxy, devstack's ratios against the others, and whether the goals are
# met. Only 127.0.0.1 is ever a target.
#
#   bash bench/proxy.sh                       3 rounds of 10 s each
#   ROUNDS=5 DURATION=20s bash bench/proxy.sh
#   CADDY=/path/to/caddy bash bench/proxy.sh  use that Caddy
#
# Caddy: $CADDY, else 2.11.9 built once into a private GOBIN under
# ${XDG_CACHE_HOME:-~/.cache}/devstack-bench, else Debian's /usr/bin/caddy.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
CADDY_VERSION=v2.11.9

for tool in go wrk nginx; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (run scripts/setup.sh)" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start NAME CMD...: runs CMD in its own process group, output to $work/NAME.log.
start() {
  local name=$1; shift
  setsid "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  eval "pid_$name=$!"
}

# wait_for FILE REGEX: waits up to 30 s for a line in FILE.
wait_for() {
  for _ in $(seq 300); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: timed out waiting for '$2' in $1:" >&2; cat "$1" >&2; exit 1
}

# wait_https PORT: waits until a TLS server answers on 127.0.0.1:PORT.
wait_https() {
  for _ in $(seq 300); do
    curl -skf -o /dev/null "https://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  echo "bench: nothing answers on https://127.0.0.1:$1" >&2; exit 1
}

echo "bench: building devstack and the upstream"
go build -o "$work/devstack" .
go build -o "$work/upstream" ./bench/proxyupstream

caddy=${CADDY:-}
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

# devstack: its own CA and cache, as a user's first run.
export CAROOT="$work/ca" XDG_CACHE_HOME="$work/cache"
start devstack "$work/devstack" proxy --to "http://127.0.0.1:$up_port" --port "$devstack_port" --host 127.0.0.1
wait_for "$work/devstack.log" "ready https://localhost:$devstack_port"

# Caddy: tls internal, no admin endpoint, no trust-store changes, data in $work.
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
	tls internal
	reverse_proxy 127.0.0.1:$up_port
}
EOF
HOME="$work/caddy-home" XDG_DATA_HOME="$work/caddy-home" XDG_CONFIG_HOME="$work/caddy-home" \
  start caddy "$caddy" run --config "$work/Caddyfile" --adapter caddyfile
wait_https "$caddy_port"

# nginx: same leaf certificate as devstack (ECDSA P-256), upstream keepalive,
# HTTP/2 offered, everything it writes kept in $work.
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
	access_log $work/nginx/access.log;
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
		ssl_certificate $work/cache/devstack/certs/localhost.pem;
		ssl_certificate_key $work/cache/devstack/certs/localhost-key.pem;
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

# Everyone answers with the upstream's body before the clock starts.
for p in "$devstack_port" "$caddy_port" "$nginx_port"; do
  curl -skf "https://127.0.0.1:$p/" | grep -q "benchmark upstream" || { echo "bench: proxy on $p does not reach the upstream" >&2; exit 1; }
done

# rss_kb PID: VmRSS of PID and its children (nginx workers), in kB.
rss_kb() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# cpu_ticks PID: user+system CPU time of PID and its children, in clock ticks.
cpu_ticks() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)

# to_ms VALUE: wrk's "1.23ms" / "812.00us" / "1.02s" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

declare -A rps p50 p99 peak cpu
for name in devstack caddy nginx; do rps[$name]=""; p50[$name]=""; p99[$name]=""; cpu[$name]=""; peak[$name]=0; done

echo "bench: $ROUNDS interleaved rounds of wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $(nproc) CPUs shared with wrk and the upstream"
for round in $(seq "$ROUNDS"); do
  for name in devstack caddy nginx; do
    port_var="${name}_port"; pid_var="pid_$name"
    port=${!port_var}; pid=${!pid_var}
    ticks_before=$(cpu_ticks "$pid")
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "https://127.0.0.1:$port/" >"$work/wrk.out" &
    wrk_pid=$!
    while kill -0 "$wrk_pid" 2>/dev/null; do
      kb=$(rss_kb "$pid")
      [ "$kb" -gt "${peak[$name]}" ] && peak[$name]=$kb
      sleep 0.5
    done
    wait "$wrk_pid"
    ticks=$(( $(cpu_ticks "$pid") - ticks_before ))
    requests=$(awk '/requests in/ {print $1}' "$work/wrk.out")
    us=$(awk -v t="$ticks" -v hz="$hz" -v n="$requests" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
    r=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out")
    l50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$work/wrk.out")")
    l99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$work/wrk.out")")
    errors=$(grep -E "Non-2xx|Socket errors" "$work/wrk.out" || true)
    printf "round %d  %-8s %10.0f req/s  p50 %7.3f ms  p99 %7.3f ms  CPU %6.1f µs/req  %s\n" "$round" "$name" "$r" "$l50" "$l99" "$us" "$errors"
    rps[$name]+="$r "; p50[$name]+="$l50 "; p99[$name]+="$l99 "; cpu[$name]+="$us "
  done
done

# median of the rounds
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo
echo "proxy     version                        req/s (median)   p50 ms   p99 ms  CPU µs/req  peak RSS MiB"
declare -A m_rps m_p50 m_p99 m_cpu
for name in devstack caddy nginx; do
  m_rps[$name]=$(echo "${rps[$name]}" | median)
  m_p50[$name]=$(echo "${p50[$name]}" | median)
  m_p99[$name]=$(echo "${p99[$name]}" | median)
  m_cpu[$name]=$(echo "${cpu[$name]}" | median)
  case $name in
    devstack) version="devstack $(git rev-parse --short HEAD 2>/dev/null || echo dev)" ;;
    caddy) version="caddy $("$caddy" version 2>/dev/null | awk '{print $1}')"
           [ "$version" = "caddy unknown" ] && case $caddy in *"caddy-$CADDY_VERSION"*) version="caddy $CADDY_VERSION" ;; esac ;;
    nginx) version="$(nginx -v 2>&1 | sed 's/.*version: //')" ;;
  esac
  printf "%-9s %-30s %14.0f %8.3f %8.3f %11.1f %13.1f\n" "$name" "$version" "${m_rps[$name]}" "${m_p50[$name]}" "${m_p99[$name]}" "${m_cpu[$name]}" "$(echo "${peak[$name]}" | awk '{print $1/1024}')"
done

echo
awk -v d="${m_rps[devstack]}" -v c="${m_rps[caddy]}" -v n="${m_rps[nginx]}" \
    -v dp="${m_p99[devstack]}" -v np="${m_p99[nginx]}" \
    -v dc="${m_cpu[devstack]}" -v cc="${m_cpu[caddy]}" -v nc="${m_cpu[nginx]}" 'BEGIN {
  printf "devstack req/s vs Caddy:  %.2fx  (goal >= 1.50x)  %s\n", d / c, (d / c >= 1.5 ? "met" : "MISSED")
  printf "devstack req/s vs nginx:  %.2fx  (goal >= 0.75x)  %s\n", d / n, (d / n >= 0.75 ? "met" : "MISSED")
  printf "devstack p99 vs nginx:    %.2fx  (goal <= 1.50x)  %s\n", dp / np, (dp / np <= 1.5 ? "met" : "MISSED")
  printf "CPU per request, devstack vs Caddy: %.2fx, vs nginx: %.2fx (less noisy than req/s on a shared machine)\n", dc / cc, dc / nc
}'
echo "(medians of $ROUNDS interleaved rounds; other work on this machine adds noise to every round)"
