#!/usr/bin/env bash
# The README's demo: on this machine, in a temp dir, hardkms's main job end to end.
# A SoftHSM2 token, a vault sealed by 2-of-3 (emulated) YubiKeys, LTC and ETH wallets,
# litecoind -regtest, a Hardhat node and a local stand-in for the Tatum API; pending
# transactions signed by `hardkms daemon`, broadcast and mined; `hardkms audit verify`.
#
#   bash scripts/demo.sh            (or: npm run demo)
#
# Env: HARDKMS_DEMO_SKIP_SETUP=1 skips scripts/setup.sh (packages, npm ci, build);
#      HARDKMS_DEMO_KEEP=1 keeps the temp dir (vault, token, log, HTML audit report).
# The story goes to stdout and ends with one JSON summary line; exit 0 only if every
# pending transaction was mined and the audit log verified.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${HARDKMS_DEMO_SKIP_SETUP:-}" != "1" ]; then
  echo "demo: running scripts/setup.sh first (installs only what is missing; HARDKMS_DEMO_SKIP_SETUP=1 skips it)" >&2
  bash scripts/setup.sh >&2
fi
if [ ! -f dist/cli/main.js ]; then
  echo "demo: dist/cli/main.js is missing; building" >&2
  npm run build --silent >&2
fi
[ -x node_modules/.bin/vite-node ] || { echo "demo: node_modules/.bin/vite-node is missing: run bash scripts/setup.sh (npm ci)" >&2; exit 1; }
exec node_modules/.bin/vite-node scripts/demo.ts
