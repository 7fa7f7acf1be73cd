# Shell helpers shared by the load benchmarks (sourced, not run). The caller sets `here` (this folder), `root` (the
# repository), `work` (a scratch dir) and LOG_PREFIX before using them.

log() { echo "[${LOG_PREFIX:-bench} $(date +%T)] $*" >&2; }
record() { echo "$*" >> "$results"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() {  # wait_http PORT: any HTTP answer on the port means the server is up
  for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
  echo "nothing answered on port $1" >&2; return 1
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
stored_sqlite() { sqlite3 "$1" 'select count(*) from events' 2>/dev/null || echo 0; }

# ensure_tools CMD:PACKAGE…: apt-get installs the packages whose command is missing (as root or with sudo), unless
# NO_INSTALL=1.
ensure_tools() {
  [ "${NO_INSTALL:-0}" = 1 ] && return 0
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || [ -x "/usr/sbin/${pair%%:*}" ] || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- CPU per acknowledged event -------------------------------------------------------------------------------------
# The stable figure on a shared machine: req/s swings from run to run, but the CPU the gateway's threads spend per
# stored event barely does. Thread CPU comes from /proc/PID/task/*/stat (utime + stime, fields 14 and 15, in clock
# ticks); a window is "sample before, run the load, sample after", divided by the rows stored in between.

# cpu_threads PID: one line per thread group, "NAME TICKS", threads named alike (NIO-ELT-0-#0, #1…) summed.
cpu_threads() {
  local t name
  for t in /proc/"$1"/task/*; do
    name=$(tr ' ' '_' < "$t/comm" 2>/dev/null) || continue
    # The comm field is in parentheses and may hold spaces; the numbers start after the last ')'.
    awk -v n="$name" '{ sub(/.*\) /, ""); print n, $12 + $13 }' "$t/stat" 2>/dev/null || true
  done | sed -E 's/[0-9]+( [0-9]+)$/#\1/; s/#+/#/' | awk '{ sum[$1] += $2 } END { for (k in sum) print k, sum[k] }' | sort
}

# cpu_report BEFORE_FILE AFTER_FILE ROWS: "cpu_us_per_event=… cpu_split=name:µs,…" over the window.
cpu_report() {
  local hz; hz=$(getconf CLK_TCK)
  awk -v hz="$hz" -v rows="$3" '
    FNR == NR { before[$1] = $2; next }
    { d = $2 - before[$1]; if (d < 0) d = 0; delta[$1] = d; total += d }
    END {
      if (rows <= 0) { print "cpu_us_per_event=? cpu_split=?"; exit }
      printf "cpu_us_per_event=%.1f cpu_split=", total * 1e6 / hz / rows
      sep = ""
      for (k in delta) if (delta[k] * 1e6 / hz / rows >= 1) { printf "%s%s:%.0f", sep, k, delta[k] * 1e6 / hz / rows; sep = "," }
      print ""
    }' "$1" "$2"
}
