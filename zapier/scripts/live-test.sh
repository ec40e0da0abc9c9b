#!/usr/bin/env bash
# Run the Zapier app's tests, live ones included, against a Kartra Integrations service
# that the caller has already started (web server + Celery worker, with
# HOOKS_ALLOW_PRIVATE_TARGETS=true so hooks may target the test's 127.0.0.1 catcher).
#
# Usage: zapier/scripts/live-test.sh [REPO_ROOT]
#   ZAPIER_TEST_BASE_URL       required, e.g. http://127.0.0.1:8000
#   ZAPIER_TEST_API_KEY / ZAPIER_TEST_API_PASSWORD
#   ZAPIER_TEST_PLATFORM_API_KEY / ZAPIER_TEST_PLATFORM_API_PASSWORD  (that account's platform events credential)
#   ZAPIER_TEST_UNAPPROVED_API_KEY / ZAPIER_TEST_UNAPPROVED_API_PASSWORD
#       when unset, both accounts are created with REPO_ROOT's `manage.py create_account`
#       (run with $PYTHON, default REPO_ROOT/.venv/bin/python or python3; it must see the
#       same DATABASE_URL as the running server).
#   ZAPIER_TEST_DELIVERY_TIMEOUT_MS  wait for each hook delivery (default 30000)
set -euo pipefail

root=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
cd "$root/zapier"
[ -d node_modules ] || npm ci --no-audit --no-fund

: "${ZAPIER_TEST_BASE_URL:?set ZAPIER_TEST_BASE_URL to the running service, e.g. http://127.0.0.1:8000}"
export ZAPIER_TEST_BASE_URL

python=${PYTHON:-$( [ -x "$root/.venv/bin/python" ] && echo "$root/.venv/bin/python" || echo python3 )}
# create_account prints one JSON object {account_id, api_key, api_password, platform_api_key,
# platform_api_password, ...} (issue 2; the platform pair is what POST /api/v1/events takes).
account() {
  (cd "$root" && "$python" manage.py create_account --email "zapier-live-$1-$$-$(date +%s)@example.com" \
    --name "Zapier live test ($1)" "${@:2}") | tail -n 1
}
field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$1" "$2"; }

if [ -z "${ZAPIER_TEST_API_KEY:-}" ]; then
  creds=$(account approved --zapier-approved --demo-data)
  export ZAPIER_TEST_API_KEY=$(field "$creds" api_key) ZAPIER_TEST_API_PASSWORD=$(field "$creds" api_password)
  export ZAPIER_TEST_PLATFORM_API_KEY=$(field "$creds" platform_api_key)
  export ZAPIER_TEST_PLATFORM_API_PASSWORD=$(field "$creds" platform_api_password)
fi
if [ -z "${ZAPIER_TEST_UNAPPROVED_API_KEY:-}" ]; then
  creds=$(account unapproved)
  export ZAPIER_TEST_UNAPPROVED_API_KEY=$(field "$creds" api_key)
  export ZAPIER_TEST_UNAPPROVED_API_PASSWORD=$(field "$creds" api_password)
fi

NODE_ENV=test exec node --test test/
