"""gunicorn settings of `make run`, shared by scripts/bench_steps.py so that the bench
measures the server as it runs (the command line adds --bind and may override workers)."""

import gc
import os

workers = 2
accesslog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(b)s %(M)sms'
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
