#!/bin/sh
# Starts PostgreSQL for hardkms: on first start, a cluster with the role and database
# POSTGRES_USER / POSTGRES_DB (default hardkms) whose password is POSTGRES_PASSWORD; then the
# server with TLS on, reachable only over hostssl with scram-sha-256.
set -eu
user=${POSTGRES_USER:-hardkms}
db=${POSTGRES_DB:-hardkms}
tls=/etc/postgresql/tls
[ -r "$tls/server.pem" ] && [ -r "$tls/server.key" ] || {
  echo "hardkms-postgres: mount the server certificate and key as $tls/server.pem and $tls/server.key" >&2
  exit 1
}
# The key as the server wants it: owned by postgres, mode 0600 (the mount keeps the host's owner).
install -o postgres -g postgres -m 0600 "$tls/server.key" /var/lib/postgresql/tls/server.key
install -o postgres -g postgres -m 0644 "$tls/server.pem" /var/lib/postgresql/tls/server.pem
chown postgres:postgres "$PGDATA" && chmod 0700 "$PGDATA"
as_pg() { runuser -u postgres -- "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (docker/ha/postgres.env)}"
  as_pg initdb -D "$PGDATA" --username=postgres --auth-local=peer --auth-host=reject >/dev/null
  cat >"$PGDATA/pg_hba.conf" <<HBA
local   all  postgres                peer
hostssl $db  $user     0.0.0.0/0     scram-sha-256
hostssl $db  $user     ::/0          scram-sha-256
HBA
  as_pg pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  # The password goes from the environment into psql's variable (\getenv), never through argv.
  as_pg psql -v ON_ERROR_STOP=1 -q -d postgres <<SQL
\\getenv pw POSTGRES_PASSWORD
CREATE ROLE "$user" LOGIN PASSWORD :'pw';
CREATE DATABASE "$db" OWNER "$user";
SQL
  as_pg pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
unset POSTGRES_PASSWORD
exec runuser -u postgres -- postgres -D "$PGDATA" -c listen_addresses='*' -c ssl=on \
  -c ssl_cert_file=/var/lib/postgresql/tls/server.pem -c ssl_key_file=/var/lib/postgresql/tls/server.key \
  -c password_encryption=scram-sha-256
