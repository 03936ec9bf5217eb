"""The reverse proxies in front of the app: what their X-Forwarded-* headers are worth."""

from werkzeug.middleware.proxy_fix import ProxyFix


def trust_proxies(app):
    """TRUSTED_PROXIES hops of X-Forwarded-* (Werkzeug's ProxyFix): the client's address,
    and HTTPS seen by the proxy, as the app must see them."""
    value = str(app.config["TRUSTED_PROXIES"]).strip()
    if not value.isdigit():
        raise RuntimeError("TRUSTED_PROXIES : un nombre de proxys (0 sans proxy devant l'app).")
    hops = app.config["TRUSTED_PROXIES"] = int(value)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
