#!/usr/bin/env bash
# `zapier-platform validate --without-style` (the app's schema, offline) with the CLI Zapier publishes
# with. The CLI 19.x refuses node below 22, and machines may have node 20: node 22 and the CLI come
# from the npm registry through npx (cached in ~/.npm after the first run), nothing installed by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_VERSION=${ZAPIER_NODE_VERSION:-22}
CLI_VERSION=${ZAPIER_CLI_VERSION:-19.1.0}
# The CLI looks for its own config and update notices; keep it quiet and offline-friendly.
export DISABLE_ZAPIER_ANALYTICS=1 ZAPIER_SKIP_UPDATE_CHECK=1 NODE_ENV=test
exec npx --yes -p "node@${NODE_VERSION}" -p "zapier-platform-cli@${CLI_VERSION}" -- \
  zapier-platform validate --without-style
