"""gunicorn settings of `make run`, shared by scripts/bench_steps.py so that the bench
measures the server as it runs (the command line adds --bind and may override workers)."""

workers = 2
accesslog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(b)s %(M)sms'
