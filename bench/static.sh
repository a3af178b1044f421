#!/usr/bin/env bash
# Measures how fast devstack's proxy serves a static file, beside nginx
# serving the same file in the same run. devstack runs `up` on the sample
# shop (testdata/django-static) under gunicorn and answers
# /static/admin/css/base.css from Django's admin app, found through the
# project's own finders (the third directory they search); nginx serves the
# same file with an alias, over HTTPS with the same certificate. Rounds are
# interleaved (devstack, nginx, devstack, …) so other work on the machine
# spreads over both. Prints the load before and after, requests/s, p50,
# p99 and CPU per request of each, and devstack's ratio. Only 127.0.0.1 is
# ever a target.
#
#   bash bench/static.sh                     3 rounds of 5 s each
#   ROUNDS=5 DURATION=10s bash bench/static.sh
#   PYTHON=/path/to/python bash bench/static.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
PYTHON=${PYTHON:-/usr/bin/python3}
FILE=/static/admin/css/base.css

for tool in go wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (run scripts/setup.sh)" >&2; exit 1; }
done
"$PYTHON" -c 'import django, gunicorn' 2>/dev/null ||
  { echo "bench: $PYTHON cannot import django and gunicorn (run scripts/setup.sh)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  stop_started
  rm -rf "$work"
}
trap cleanup EXIT


# start and wait_for come from bench/lib.sh.

echo "bench: load before: $(cat /proc/loadavg)"
echo "bench: building devstack"
go build -o "$work/devstack" .
go build -o "$work/upstream" ./bench/proxyupstream
ports=($("$work/upstream" -free-ports 3))
devstack_port=${ports[0]} app_port=${ports[1]} nginx_port=${ports[2]}

cp -R testdata/django-static "$work/site"
export CAROOT="$work/ca" DEVSTACK_CACHE_DIR="$work/cache"
start devstack "$work/devstack" up --dir "$work/site" --python "$PYTHON" --no-tui --no-watch \
  --port "$devstack_port" --app-port "$app_port"
wait_for "$work/devstack.log" "ready https://localhost:$devstack_port" 60
wait_for "$work/devstack.log" "static files: /static/ served by devstack" 60

admin=$("$PYTHON" -c 'import django, os; print(os.path.join(os.path.dirname(django.__file__), "contrib", "admin", "static", "admin"))')
cert=$(find "$work/cache" -name localhost.pem | head -1)
key=$(find "$work/cache" -name localhost-key.pem | head -1)
[ -n "$cert" ] && [ -n "$key" ] || { echo "bench: no leaf certificate under $work/cache" >&2; exit 1; }

# nginx as a distribution configures it (types, sendfile), serving the
# admin's files with an alias.
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
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	sendfile on;
	access_log $work/nginx/access.log;
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	server {
		listen 127.0.0.1:$nginx_port ssl http2;
		ssl_certificate $cert;
		ssl_certificate_key $key;
		location /static/admin/ {
			alias $admin/;
		}
	}
}
EOF
start nginx nginx -c "$work/nginx.conf" -p "$work/nginx"

# Both answer with the same bytes before the clock starts.
want=$(sha256sum "$admin/css/base.css" | cut -d' ' -f1)
for p in "$devstack_port" "$nginx_port"; do
  for _ in $(seq 100); do curl -skf -o /dev/null "https://127.0.0.1:$p$FILE" && break; sleep 0.1; done
  got=$(curl -skf "https://127.0.0.1:$p$FILE" | sha256sum | cut -d' ' -f1)
  [ "$got" = "$want" ] || { echo "bench: the server on $p does not serve $FILE" >&2; exit 1; }
done
size=$(stat -c %s "$admin/css/base.css")

# cpu_ticks, hz and to_ms come from bench/lib.sh.

# own_ticks PID: user+system CPU time of PID alone. devstack's children
# (gunicorn) are idle while it serves files; nginx's work is in its workers.
own_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_of() { if [ "$1" = devstack ]; then own_ticks "$pid_devstack"; else cpu_ticks "$pid_nginx"; fi; }

declare -A rps p50 p99 cpu
for name in devstack nginx; do rps[$name]=""; p50[$name]=""; p99[$name]=""; cpu[$name]=""; done

echo "bench: $FILE ($size bytes), $ROUNDS interleaved rounds of wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $(nproc) CPUs shared with wrk"
for round in $(seq "$ROUNDS"); do
  for name in devstack nginx; do
    port_var="${name}_port"; port=${!port_var}
    ticks_before=$(ticks_of "$name")
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "https://127.0.0.1:$port$FILE" >"$work/wrk.out"
    ticks=$(( $(ticks_of "$name") - ticks_before ))
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


echo
echo "static file   server                         req/s (median)   p50 ms   p99 ms  CPU µs/req"
declare -A m_rps m_p99 m_cpu
for name in devstack nginx; do
  m_rps[$name]=$(echo "${rps[$name]}" | median)
  m_p99[$name]=$(echo "${p99[$name]}" | median)
  m_cpu[$name]=$(echo "${cpu[$name]}" | median)
  case $name in
    devstack) version="devstack $(git rev-parse --short HEAD 2>/dev/null || echo dev)" ;;
    nginx) version="$(nginx -v 2>&1 | sed 's/.*version: //')" ;;
  esac
  printf "%-13s %-30s %14.0f %8.3f %8.3f %11.1f\n" "$name" "$version" "${m_rps[$name]}" "$(echo "${p50[$name]}" | median)" "${m_p99[$name]}" "${m_cpu[$name]}"
done
echo
awk -v d="${m_rps[devstack]}" -v n="${m_rps[nginx]}" -v dc="${m_cpu[devstack]}" -v nc="${m_cpu[nginx]}" 'BEGIN {
  printf "devstack static req/s vs nginx: %.2fx; CPU per request: %.2fx\n", d / n, dc / nc
}'
echo "bench: load after: $(cat /proc/loadavg)"
echo "(medians of $ROUNDS interleaved rounds on a machine shared with other work: compare within this run only)"
