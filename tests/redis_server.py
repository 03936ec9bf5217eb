"""A real Redis for the tests (Debian's redis-server on a free loopback port, nothing
saved to disk), as a pytest plugin (conftest's pytest_plugins): the `redis_url` fixture.
Without the binary the tests using it are skipped, or fail with CI=true (`make redis`
installs it as root)."""

import os
import shutil
import subprocess
import time

import pytest
import redis
from smtp_server import HOST, free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture
def redis_url(tmp_path):
    if not os.path.exists(REDIS_SERVER):
        message = "redis-server absent (`make redis` l'installe, en root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " CI=true : les tests Redis sont obligatoires.", pytrace=False)
        pytest.skip(message)
    port = free_port()
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://{HOST}:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(500):  # up in a few milliseconds; bounded if it never comes
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.01)
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)
