#!/bin/sh
# Run a command (by default the test suite) against a throwaway PostgreSQL server:
#   scripts/test-postgres.sh [command...]
# The server lives in a temporary directory (in /dev/shm unless TMPDIR is set), listens on a
# Unix socket only, runs as a non-root user (PostgreSQL refuses root) and is stopped and
# removed on exit, even on failure.
# The command gets TEST_DATABASE_URL=postgresql://test@/postgres?host=<socket dir>: the tests
# create their databases next to that one (tests/conftest.py).
# No server binaries: a skip, or a failure with CI=true (`make postgres` installs them as root).
set -eu

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$PG_BIN" ]; then
	message="PostgreSQL absent (\`make postgres\` l'installe, en root)"
	if [ "${CI:-}" = true ]; then
		echo "$message. CI=true : la suite PostgreSQL est obligatoire." >&2
		exit 1
	fi
	echo "$message : suite PostgreSQL sautée." >&2
	exit 0
fi

RUN_AS=""
if [ "$(id -u)" = 0 ]; then
	USER_NAME=postgres
	id "$USER_NAME" >/dev/null 2>&1 || useradd --system --no-create-home "$USER_NAME"
	RUN_AS="runuser -u $USER_NAME --"
fi

# In memory when possible: every test copies a 17 MB database.
BASE=${TMPDIR:-/tmp}
[ -n "${TMPDIR:-}" ] || [ ! -w /dev/shm ] || BASE=/dev/shm
DIR=$(mktemp -d "$BASE/pg-test.XXXXXX")
[ -z "$RUN_AS" ] || chown "$USER_NAME" "$DIR"

stop() {
	$RUN_AS "$PG_BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap stop EXIT
trap 'exit 130' INT TERM

$RUN_AS "$PG_BIN/initdb" -D "$DIR/data" -U test -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
	>"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
# Durability off: a test database is thrown away anyway, and copies (CREATE DATABASE) get fast.
$RUN_AS "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start -o "-k $DIR -c listen_addresses='' \
-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
	>/dev/null || { cat "$DIR/server.log" >&2; exit 1; }

export TEST_DATABASE_URL="postgresql://test@/postgres?host=$DIR"
[ "$#" -gt 0 ] || set -- .venv/bin/python -m pytest
status=0
"$@" || status=$?
exit "$status"
