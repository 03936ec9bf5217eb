"""gunicorn settings of `make run`, shared by scripts/bench_steps.py so that the bench
measures the server as it runs (the command line adds --bind and may override workers)."""

import gc

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


def post_worker_init(worker):
    """The app is loaded: its start-up objects (modules, routes, forms) live as long as the
    worker, so the cyclic GC stops walking them on each full collection (gc.freeze)."""
    gc.collect()
    gc.freeze()
