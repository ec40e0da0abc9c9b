#!/usr/bin/env bash
# Start a throwaway Kartra Integrations service (web server + Celery worker, on its own database)
# and run the Zapier app's live tests against it: `make zapier-live`, part of `make test`.
#
# With DATABASE_URL set (PostgreSQL) the service uses a database of its own on that server,
# `<name>_zapier_live`, created afresh; otherwise a SQLite file in var/. With REDIS_URL set the
# worker uses Redis database 7; otherwise Celery's filesystem broker in var/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
python=${PYTHON:-$root/.venv/bin/python}
port=${ZAPIER_LIVE_PORT:-8771}

mkdir -p var
if [ -n "${DATABASE_URL:-}" ]; then
  base=${DATABASE_URL%/*}
  db=${DATABASE_URL##*/}_zapier_live
  psql "$base/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
  export DATABASE_URL="$base/$db"
else
  rm -f var/zapier-live.sqlite3
  export DATABASE_URL="sqlite:///$root/var/zapier-live.sqlite3"
fi
if [ -n "${REDIS_URL:-}" ]; then
  export REDIS_URL="${REDIS_URL%/*}/7"
  redis-cli -u "$REDIS_URL" flushdb >/dev/null
fi
export DJANGO_SETTINGS_MODULE=kartra_integrations.settings.development HOOKS_ALLOW_PRIVATE_TARGETS=true DEBUG=false
export EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend API_RATE_PER_ACCOUNT=1000/s

"$python" manage.py migrate --noinput -v 0
log=var/zapier-live.log
: >"$log"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
"$python" manage.py runserver "127.0.0.1:$port" --noreload >>"$log" 2>&1 & pids+=($!)
"$root/.venv/bin/celery" -A kartra_integrations worker --loglevel=WARNING --concurrency=3 >>"$log" 2>&1 & pids+=($!)
"$root/.venv/bin/celery" -A kartra_integrations beat --loglevel=WARNING -s var/zapier-live-beat >>"$log" 2>&1 & pids+=($!)
for _ in $(seq 60); do curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/schema" && break; sleep 0.5; done

ZAPIER_TEST_BASE_URL="http://127.0.0.1:$port" PYTHON="$python" zapier/scripts/live-test.sh "$root" || {
  echo "--- service log (tail) ---"; tail -n 60 "$log"; exit 1; }
