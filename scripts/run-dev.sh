#!/usr/bin/env bash
# `make run`'s last step: the web server, a Celery worker and Celery beat in one terminal.
# One Ctrl-C stops all three (a worker still busy after 10 seconds is killed).
set -u
cd "$(dirname "$0")/.."
port=${PORT:-8000}
celery=.venv/bin/celery

.venv/bin/python manage.py runserver "127.0.0.1:$port" & web=$!
$celery -A kartra_integrations worker --loglevel=INFO --concurrency=3 & worker=$!
$celery -A kartra_integrations beat --loglevel=INFO & beat=$!
pids="$web $worker $beat"

stop() {
  trap - INT TERM
  kill -TERM $pids 2>/dev/null
  for _ in $(seq 20); do kill -0 $pids 2>/dev/null || exit 0; sleep 0.5; done
  kill -KILL $pids 2>/dev/null
  exit 0
}
trap stop INT TERM
wait -n $pids  # any of the three ending stops the others too
stop
