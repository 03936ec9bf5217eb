"""The security headers of every response, pages and static files alike (moved from app.py)."""

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


# Powerful features no page of the service uses, refused to it and to anything it embeds.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
        "interest-cohort",
        "browsing-topics",
    )
)
HSTS_MAX_AGE = 31536000  # a year


def security_headers(app):
    """The headers of every response, pages and static files alike."""
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        # No other site's window keeps a handle on ours (window.opener).
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if app.config["SESSION_COOKIE_SECURE"]:
        # Only over HTTPS: browsers ignore it otherwise, and a site still served over
        # HTTP must not promise it. Subdomains too, unless the operator serves one over
        # HTTP (HSTS_INCLUDE_SUBDOMAINS=0).
        hsts = f"max-age={HSTS_MAX_AGE}"
        if app.config["HSTS_INCLUDE_SUBDOMAINS"]:
            hsts += "; includeSubDomains"
        headers["Strict-Transport-Security"] = hsts
    return headers
