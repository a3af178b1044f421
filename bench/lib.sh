# Shell helpers shared by bench/proxy.sh and bench/static.sh (sourced).
# start records each process in the caller's pids array; stop_started, in the
# caller's cleanup, stops them.

# stop_started: SIGTERM to every group start began, up to 5 s for them to
# exit, then SIGKILL to what is left; for the caller's cleanup.
stop_started() {
  local pid alive
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}

# start NAME CMD...: runs CMD in its own process group, output to $work/NAME.log.
start() {
  local name=$1; shift
  setsid "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  eval "pid_$name=$!"
}

# wait_for FILE REGEX [SECONDS]: waits (30 s by default) for a line in FILE.
wait_for() {
  local tries=$(( ${3:-30} * 10 ))
  for _ in $(seq "$tries"); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: timed out waiting for '$2' in $1:" >&2; cat "$1" >&2; exit 1
}

# cpu_split PID: "user system" CPU time of PID and its children, in clock
# ticks.
cpu_split() {
  local user=0 sys=0 p u s
  for p in $1 $(pgrep -P "$1" || true); do
    read -r u s < <(awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null || echo 0 0)
    user=$((user + ${u:-0})) sys=$((sys + ${s:-0}))
  done
  echo "$user $sys"
}

# cpu_ticks PID: user+system CPU time of PID and its children, in clock ticks.
cpu_ticks() {
  local u s
  read -r u s < <(cpu_split "$1")
  echo $((u + s))
}
hz=$(getconf CLK_TCK)

# to_ms VALUE: wrk's "1.23ms" / "812.00us" / "1.02s" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

# median: the median of the numbers on standard input (spaces or lines).
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
