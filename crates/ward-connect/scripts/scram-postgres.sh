#!/bin/sh
# Starts or stops a private PostgreSQL that checks SCRAM-SHA-256 passwords on
# 127.0.0.1, for running ward-connect's tests against a server that does not
# trust loopback logins. It logs every statement, so the log shows what
# reached the server.
#
#   crates/ward-connect/scripts/scram-postgres.sh start   # prints the URL
#   crates/ward-connect/scripts/scram-postgres.sh stop
#
# Needs the PostgreSQL server binaries (BINDIR, default the Debian path for
# version 15) and, when run as root, a `postgres` system user.
set -eu

BINDIR=${BINDIR:-/usr/lib/postgresql/15/bin}
DIR=${WARD_SCRAM_PG_DIR:-/tmp/ward-connect-scram-pg}
PORT=${WARD_SCRAM_PG_PORT:-55432}
PASSWORD=${WARD_SCRAM_PG_PASSWORD:-ward-scram-admin}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
    if [ ! -d "$DIR/data" ]; then
        mkdir -p "$DIR"
        printf '%s\n' "$PASSWORD" >"$DIR/pw"
        [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$DIR"
        as_owner "$BINDIR/initdb" -D "$DIR/data" -U postgres --pwfile="$DIR/pw" \
            --auth-host=scram-sha-256 --auth-local=trust >/dev/null
        rm -f "$DIR/pw"
        printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$DIR/data/pg_hba.conf"
    fi
    as_owner "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c log_statement=all" start >/dev/null
    echo "WARD_TEST_POSTGRES_URL=postgres://postgres:$PASSWORD@127.0.0.1:$PORT/postgres"
    echo "statement log: $DIR/log"
    ;;
stop)
    as_owner "$BINDIR/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
