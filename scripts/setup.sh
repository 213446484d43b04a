#!/usr/bin/env bash
# Sets up a fresh machine for hardkms: Debian packages, npm dependencies (with their
# native modules really compiled), and the build. Safe to run again: it only installs
# what is missing.
#
#   bash scripts/setup.sh               what the demo and the tests need
#   bash scripts/setup.sh --container   also podman (runc), debootstrap and promtool for
#                                       scripts/test-container.sh (CI in the SoftHSM2 image)
set -euo pipefail
cd "$(dirname "$0")/.."
container=0
[ "${1:-}" = "--container" ] && container=1

# Debian packages: SoftHSM2 (the token), litecoind (UTXO regtest node for end-to-end
# tests), the YubiKey tools (the real gate drivers are invoked in tests with no key
# present), OpenSSL (legacy wallet.dat interop tests), Chromium (audit report test),
# rsyslog with its GnuTLS driver (the off-host audit sink the forwarding tests start),
# PostgreSQL (the multi-signer store's tests start their own server in a temp dir),
# and the toolchain node-gyp needs for pkcs11js and better-sqlite3.
# prometheus: promtool tests docker/prometheus/alerts.yml; rsyslog(-gnutls): the audit-forwarding sink in tests.
packages=(softhsm2 opensc litecoind yubikey-manager yubikey-personalization openssl chromium prometheus rsyslog rsyslog-gnutls postgresql python3 make g++)
# Debian 12's podman 4.3 with runc (its crun 1.8 cannot start containers on hybrid cgroups).
[ "$container" = 1 ] && packages+=(podman runc catatonit debootstrap)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# package.json pins rollup (vitest's bundler) through "overrides": npm 11's `npm ci`
# refuses a lock that lacks any of rollup's per-platform optional packages, and the
# registry mirror reachable here does not carry all of them for the newest rollup.
# npm 11 asks for approval of install scripts; package.json's allowScripts approves the
# native modules we need and denies the others on purpose (koffi ships prebuilt addons,
# protobufjs' postinstall only prints a version warning; test/unit/native-modules.test.ts
# fails if a new one is left unreviewed). Check afterwards that they really compiled, and fail loudly if not.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
for mod in pkcs11js better-sqlite3; do
  if ! node -e "require('$mod')" 2>/dev/null; then
    echo "setup: the native module $mod did not build; rebuilding it" >&2
    npm rebuild "$mod"
    node -e "require('$mod')" || { echo "setup: FAILED: $mod has no working native build (check python3, make, g++ and node-gyp output above)" >&2; exit 1; }
  fi
done
node -e "
const p = require('pkcs11js'); new p.PKCS11();
const D = require('better-sqlite3'); new D(':memory:').close();
require('secp256k1/bindings.js');
" || { echo "setup: FAILED: native modules load but do not work" >&2; exit 1; }

npm run build --silent
echo "setup: ready" >&2
