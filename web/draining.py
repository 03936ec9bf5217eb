"""A server on its way out (gunicorn's graceful stop, gunicorn.conf.py's worker_exit) answers
the proxy's health checks 503 while it still serves the requests sent to it, so the proxy
takes it out of the rotation before it closes its socket: a POST is never sent to a closed
server (Caddy 2.6 cannot resend its body to another). Only the proxy's own probes carry
HEALTH_HEADER (deploy/Caddyfile, health_headers)."""

HEALTH_HEADER = "HTTP_X_SONDE_PROXY"
state = {"draining": False}


def start():
    state["draining"] = True


def middleware(wsgi_app):
    def app(environ, start_response):
        if state["draining"] and environ.get(HEALTH_HEADER):
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"arret en cours\n"]
        return wsgi_app(environ, start_response)

    return app
