"""What the access log says of each request beyond gunicorn's own atoms: the client's
address (after TRUSTED_PROXIES) and the logged-in account's id, left in the WSGI environ,
which gunicorn's `%({app.client}e)s` and `%({app.user_id}e)s` read (gunicorn.conf.py).
An id, never an address: the log holds no personal data."""

from flask import request, session
from flask_login import current_user

CLIENT = "app.client"
USER_ID = "app.user_id"


def init_app(app):
    @app.after_request
    def mark_access_log(response):
        request.environ[CLIENT] = request.remote_addr or "-"
        # Only when a session names an account: an anonymous page loads no user.
        if "_user_id" in session and current_user.is_authenticated:
            request.environ[USER_ID] = str(current_user.row.id)
        return response
