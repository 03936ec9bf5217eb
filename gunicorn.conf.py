"""gunicorn settings of `make run`, shared by scripts/bench_steps.py so that the bench
measures the server as it runs (the command line adds --bind and may override workers)."""

import gc
import os
import time

workers = 2
accesslog = "-"
# Time, client address (after TRUSTED_PROXIES), request, status, size, duration, and the
# logged-in account's id ("-" when none): web/access_log.py leaves the last two in the environ.
access_log_format = (
    '%(t)s %({app.client}e)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms compte=%({app.user_id}e)s'
)
# Follow-up links (/suivi/<token>) are secrets: every atom of the format, and the error
# log, are redacted (web/log_redaction.py), whatever format an operator writes here.
logger_class = "web.log_redaction.RedactingLogger"
# gunicorn 27's control socket defaults to one path per user: several instances on one host
# would fight over it. Off, unless GUNICORN_CONTROL_SOCKET names this instance's own path
# (docs/exploitation.md).
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def post_worker_init(worker):
    """The app is loaded: its start-up objects (modules, routes, forms) live as long as the
    worker, so the cyclic GC stops walking them on each full collection (gc.freeze)."""
    gc.collect()
    gc.freeze()


# Seconds a stopping worker goes on serving after it answers the proxy's health checks 503
# (web/draining.py): longer than the proxy's check interval (deploy/Caddyfile, 1 s).
DRAIN_SECONDS = float(os.environ.get("DRAIN_SECONDS", "2.5"))


def worker_int(worker):
    worker.quick_exit = True


def worker_exit(server, worker):
    """A graceful stop (SIGTERM, or a reload's HUP): the proxy is told first (health checks
    answer 503), the worker serves what it is still sent for DRAIN_SECONDS, then what the
    kernel queued, and closes its socket at once: no request meets a closed server
    (issue 14 §4: no request lost when one server of several stops)."""
    if os.getpid() != worker.pid or not hasattr(worker, "handle"):
        return  # also called in the arbiter, for a worker already gone
    if getattr(worker, "quick_exit", False):
        return  # Ctrl-C, SIGQUIT: a quick stop
    from web import draining

    draining.start()
    end = time.monotonic() + DRAIN_SECONDS
    for listener in worker.sockets:
        serve_until(worker, listener, end)
        listener.close()


def serve_until(worker, listener, end):
    """Accept and serve until `end`, then what is still queued."""
    while True:
        left = end - time.monotonic()
        if left > 0:
            listener.settimeout(left)
        else:
            listener.setblocking(False)
        try:
            client, address = listener.accept()
        except TimeoutError:
            continue
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            if left > 0:
                continue
            return
        client.setblocking(True)
        worker.handle(listener, client, address)
