# Sourced by scripts/run-local: starting the local servers and waiting for them.
# Every process started is recorded in `pids`; `stop_all` stops them (process groups).

pids=()

stop_all() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}

# serve_until_interrupted: keeps the job (and so everything it started) up until
# SIGINT (Ctrl-C) or SIGTERM, then exits 0; the caller's EXIT trap stops the servers.
# It says it is serving only once its trap is set, so a Ctrl-C after that line is
# always the clean stop (before it, bash would die of the signal).
serve_until_interrupted() {
  trap 'echo; echo "run-local: stopping everything it started"; exit 0' INT TERM
  echo "run-local: serving until Ctrl-C"
  while :; do sleep 1 & wait $! || true; done
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "run-local: timed out waiting for $what" >&2; exit 1; fi
    sleep 0.5
  done
}
port_open() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$1"; }
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }

# start_server DESCRIPTION OUT LOG COMMAND...: starts COMMAND in its own process group
# (stdout to OUT, stderr to LOG) and waits until it prints `READY <http URL>`; sets
# `server_url` to that URL. OUT is emptied first, here: a previous run's READY line
# must never be taken for this server's (the redirection happens in the background
# child, maybe after the first look at OUT).
start_server() {
  local what=$1 out=$2 log=$3; shift 3
  local pid deadline=$((SECONDS + 60))
  : > "$out"
  setsid "$@" > "$out" 2> "$log" &
  pid=$!
  pids+=("$pid")
  until grep -Eq '^READY https?://[^[:space:]/:]+' "$out"; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "run-local: $what ended before it was ready; see $log" >&2; exit 1; fi
    if [ "$SECONDS" -ge "$deadline" ]; then echo "run-local: timed out waiting for $what" >&2; exit 1; fi
    sleep 0.5
  done
  server_url="$(sed -En 's#^READY (https?://[^[:space:]]+)$#\1#p' "$out" | head -n 1)"
  if [ -z "$server_url" ]; then echo "run-local: $what announced no URL: $(cat "$out")" >&2; exit 1; fi
}
