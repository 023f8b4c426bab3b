#!/usr/bin/env bash
# Start or stop the message brokers the FastStream target's real-broker tests use:
# NATS (with JetStream) on 127.0.0.1:4222, Redis on 127.0.0.1:6379 and RabbitMQ on
# 127.0.0.1:5672 (guest/guest, which RabbitMQ allows from localhost only).
#
#   .ci/servers/brokers.sh start    install (apt, quietly) if missing, start, wait until ready
#   .ci/servers/brokers.sh stop     stop what `start` started, by PID
#   .ci/servers/brokers.sh status
#
# Nothing is exported: tests/test_target_faststream.py and test_faststream_faults.py probe the ports and runs the
# real-broker tests only when they answer. Servers are bound to 127.0.0.1 only and keep
# their data and PID files in $MERMAIDGEN_BROKERS_DIR (default /tmp/mermaidgen-brokers).
# On Debian images with a policy-rc.d, apt does not start the packages' own services, so
# the default ports stay free (engines.md, section 1).
set -euo pipefail

DIR=${MERMAIDGEN_BROKERS_DIR:-/tmp/mermaidgen-brokers}
NATS_PORT=4222
REDIS_PORT=6379
RABBIT_PORT=5672

log() { echo "brokers.sh: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # port, name, pid file[, seconds (default 10)]
  local i
  for ((i = 0; i < ${4:-10} * 20; i++)); do
    if port_open "$1"; then return 0; fi
    if [[ -f $3 ]] && ! kill -0 "$(cat "$3")" 2>/dev/null; then break; fi
    sleep 0.05
  done
  log "$2 did not come up on 127.0.0.1:$1 (log: $DIR/$2.log)"
  tail -n 20 "$DIR/$2.log" >&2 || true
  return 1
}

install() {
  local missing=()
  command -v nats-server >/dev/null || missing+=(nats-server)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v rabbitmq-server >/dev/null || missing+=(rabbitmq-server)
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

running() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  install
  mkdir -p "$DIR/nats-js"
  if running "$DIR/nats.pid"; then
    log "nats-server already running (pid $(cat "$DIR/nats.pid"))"
  elif port_open "$NATS_PORT"; then
    log "127.0.0.1:$NATS_PORT is taken by another process; using it as it is"
  else
    # -P writes the server's own PID, so `stop` kills the server and not a subshell
    nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$DIR/nats-js" -P "$DIR/nats.pid" \
      -l "$DIR/nats.log" </dev/null >/dev/null 2>&1 &
    echo $! >"$DIR/nats.pid"
    wait_port "$NATS_PORT" nats "$DIR/nats.pid"
    log "nats-server ready on 127.0.0.1:$NATS_PORT (pid $(cat "$DIR/nats.pid"))"
  fi
  if running "$DIR/redis.pid"; then
    log "redis-server already running (pid $(cat "$DIR/redis.pid"))"
  elif port_open "$REDIS_PORT"; then
    log "127.0.0.1:$REDIS_PORT is taken by another process; using it as it is"
  else
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
      --appendonly no --dir "$DIR" --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" \
      >/dev/null
    wait_port "$REDIS_PORT" redis "$DIR/redis.pid"
    log "redis-server ready on 127.0.0.1:$REDIS_PORT (pid $(cat "$DIR/redis.pid"))"
  fi
  start_rabbit
}

start_rabbit() {
  # The Debian script drops to user rabbitmq: its folders must belong to that user
  # (engines.md, section 1). It starts in about 4 s on an idle machine, 16 s on a loaded
  # one, hence the longer wait. Erlang's port mapper (epmd) is a daemon of its own,
  # bound to 127.0.0.1 too; `stop` asks it to stop.
  if running "$DIR/rabbit/rabbit.pid"; then
    log "rabbitmq-server already running (pid $(cat "$DIR/rabbit/rabbit.pid"))"
  elif port_open "$RABBIT_PORT"; then
    log "127.0.0.1:$RABBIT_PORT is taken by another process; using it as it is"
  else
    mkdir -p "$DIR/rabbit/mnesia" "$DIR/rabbit/log"
    chown -R rabbitmq:rabbitmq "$DIR/rabbit"
    ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
      RABBITMQ_NODE_PORT="$RABBIT_PORT" RABBITMQ_NODENAME=rabbit@localhost \
      RABBITMQ_MNESIA_BASE="$DIR/rabbit/mnesia" RABBITMQ_LOG_BASE="$DIR/rabbit/log" \
      RABBITMQ_PID_FILE="$DIR/rabbit/rabbit.pid" \
      setsid rabbitmq-server </dev/null >"$DIR/rabbit.log" 2>&1 &
    wait_port "$RABBIT_PORT" rabbit "$DIR/rabbit/rabbit.pid" 40
    # the server writes its PID file after it opens the port; `stop` needs the file
    local i
    for ((i = 0; i < 400; i++)); do [[ -s $DIR/rabbit/rabbit.pid ]] && break; sleep 0.05; done
    log "rabbitmq-server ready on 127.0.0.1:$RABBIT_PORT (pid $(cat "$DIR/rabbit/rabbit.pid"))"
  fi
}

stop_one() {  # name, pid file
  local pid i
  [[ -f $2 ]] || return 0
  pid=$(cat "$2")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    log "stopped $1 (pid $pid)"
  fi
  rm -f "$2"
}

stop() {
  stop_one nats-server "$DIR/nats.pid"
  stop_one redis-server "$DIR/redis.pid"
  if [[ -f $DIR/rabbit/rabbit.pid ]]; then
    stop_one rabbitmq-server "$DIR/rabbit/rabbit.pid"
    epmd -kill >/dev/null 2>&1 || true
    rm -rf "$DIR/rabbit"
  fi
  rm -rf "$DIR/nats-js"
}

status() {
  local name
  for name in nats redis rabbit; do
    if running "$DIR/$name.pid"; then echo "$name: running (pid $(cat "$DIR/$name.pid"))"
    else echo "$name: stopped"; fi
  done
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
