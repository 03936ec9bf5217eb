"""The test databases, on SQLite (default) or PostgreSQL (TEST_DATABASE_URL set, e.g. by
scripts/test-postgres.sh): one seeded database per session, a cheap copy per test.

SQLite copies the file. PostgreSQL runs CREATE DATABASE ... TEMPLATE seed, next to the
database that TEST_DATABASE_URL names, and drops each copy after its test.
"""

import itertools
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgres")


class SqliteDatabases:
    name = "SQLite"

    def new(self, directory, name):
        """The URL of a new, empty database."""
        return f"sqlite:///{Path(directory) / name}.db"

    def copy(self, template, directory, name):
        url = self.new(directory, name)
        shutil.copy(urlsplit(template).path[1:], urlsplit(url).path[1:])
        return url

    def drop(self, url):
        pass  # the file goes with pytest's temporary directory

    def close(self):
        pass


class PostgresDatabases:
    name = "PostgreSQL"

    def __init__(self, url):
        self.url = url
        self._admin = psycopg.connect(url, autocommit=True)
        # Unique per session: two sessions may share a server.
        self._names = (f"t{os.getpid()}_{n}" for n in itertools.count())

    def _url(self, name):
        return urlsplit(self.url)._replace(path=f"/{name}").geturl()

    def _execute(self, query, *names):
        self._admin.execute(sql.SQL(query).format(*map(sql.Identifier, names)))

    def new(self, directory, name):
        name = next(self._names)
        self._execute("CREATE DATABASE {}", name)
        return self._url(name)

    def copy(self, template, directory, name):
        source = urlsplit(template).path[1:]
        # A template must have no session: end any the app left open (e.g. a pool).
        self._admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (source,),
        )
        name = next(self._names)
        # FILE_COPY: a file copy plus a checkpoint, twice as fast as WAL_LOG for 17 MB.
        self._execute("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY", name, source)
        return self._url(name)

    def drop(self, url):
        # FORCE: connections the app keeps (per thread, pooled) must not keep it alive.
        self._execute("DROP DATABASE IF EXISTS {} WITH (FORCE)", urlsplit(url).path[1:])

    def close(self):
        self._admin.close()


def open_databases():
    """The backend named by TEST_DATABASE_URL; psycopg.OperationalError if unreachable."""
    return PostgresDatabases(TEST_DATABASE_URL) if ON_POSTGRES else SqliteDatabases()
