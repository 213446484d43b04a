#!/usr/bin/env bash
# Creates a SoftHSM2 token for hardkms in a directory of your choice.
#
#   HARDKMS_TOKEN_PIN=... HARDKMS_TOKEN_SO_PIN=... hsm/init-softhsm2-token.sh DIR [LABEL]
#
# Writes DIR/softhsm2.conf and DIR/tokens/, initialises a token labelled LABEL
# (default: hardkms) with the given user and SO PINs, and prints the line to export.
# PINs are read from the environment (or prompted for) so they never appear in argv of
# a long-lived process; softhsm2-util itself takes them as arguments, which is why this
# script is meant for provisioning on an operator's machine, not for a shared host.
set -euo pipefail
dir=${1:?usage: init-softhsm2-token.sh DIR [LABEL]}
label=${2:-${HARDKMS_TOKEN_LABEL:-hardkms}}
here=$(cd "$(dirname "$0")" && pwd)

command -v softhsm2-util >/dev/null || { echo "softhsm2-util not found: install SoftHSM2 (Debian: apt-get install softhsm2)" >&2; exit 1; }

ask() { # $1 prompt, $2 variable: a hidden prompt, or a clear refusal where there is no terminal to ask on
  [ -t 0 ] || { echo "init-softhsm2-token.sh: no terminal to ask the $1 on; set HARDKMS_TOKEN_PIN and HARDKMS_TOKEN_SO_PIN." >&2; exit 1; }
  read -rsp "Token $1: " "$2"; echo >&2
}
pin=${HARDKMS_TOKEN_PIN:-}
if [ -z "$pin" ]; then ask "user PIN" pin; fi
so_pin=${HARDKMS_TOKEN_SO_PIN:-}
if [ -z "$so_pin" ]; then ask "SO PIN" so_pin; fi
[ ${#pin} -ge 4 ] || { echo "The user PIN must have at least 4 characters." >&2; exit 1; }

umask 077
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
sed "s#@TOKEN_DIR@#$dir/tokens#" "$here/softhsm2.conf.template" > "$dir/softhsm2.conf"
SOFTHSM2_CONF="$dir/softhsm2.conf" softhsm2-util --init-token --free --label "$label" \
  --pin "$pin" --so-pin "$so_pin" >/dev/null
echo "export SOFTHSM2_CONF=$dir/softhsm2.conf"
