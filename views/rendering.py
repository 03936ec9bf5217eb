"""Full page or htmx fragment from the same template and the same URL."""

from urllib.parse import urlencode

from flask import make_response, render_template, request, url_for


def no_store(response):
    """Never kept by a browser or a proxy cache (a shared phone's back button included):
    the questionnaire's answers, staff and operator pages, an export. Blueprints register
    it as their after_request."""
    response.headers["Cache-Control"] = "no-store"
    return response


def private(response):
    """Headers of a page whose address is a secret (a follow-up, reset or invitation
    link): never sent to another site, never cached by a browser or proxy, never indexed.
    Our own pages get it as Referer: over HTTPS Flask-WTF's CSRF check refuses a form's
    POST without one, and our logs redact it (log_redaction.py)."""
    response.headers["Referrer-Policy"] = "same-origin"
    no_store(response)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def is_partial():
    # htmx 4 sends HX-Request-Type "full" for history restores and boosted loads.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Request-Type") != "full"
    )


def current_url():
    """The URL asked for, rebuilt from its route and percent-encoded, or None when no
    route matched. Never the raw path: it may hold an emoji, a newline or a NUL, which
    no response header may carry."""
    if request.url_rule is None:
        return None
    url = url_for(request.endpoint, **request.view_args)
    if request.args:
        url += "?" + urlencode(list(request.args.items(multi=True)))
    return url


SITE = "1 jeune, 1 mentor"
SEPARATOR = " — "
ERROR_PREFIX = "Erreur : "


def page_title(*parts, errors=False):
    """The <title> of every page, built here only: the page, where it is (its journey,
    « Espace association », « Administration »), then the site; « Erreur : » first on a
    page that shows errors, so a screen reader says it before anything else."""
    title = SEPARATOR.join([*(part for part in parts if part), SITE])
    return ERROR_PREFIX + title if errors else title


def render(template, status=200, **context):
    """Render `template` (which extends `layout`) as a page or as the swapped region.
    `page_errors` tells a template that builds its own title (the operator's pages) that
    the page answers a refused form (422)."""
    context.setdefault("page_errors", status == 422)
    return respond(render_html(template, **context), status)


def render_html(template, **context):
    partial = is_partial()
    layout = "partial.html" if partial else "base.html"
    return render_template(template, layout=layout, partial=partial, **context)


def respond(html, status=200):
    """The response of a page rendered by render_html (the headers of `render`)."""
    response = make_response(html, status)
    response.headers["Vary"] = "HX-Request, HX-Request-Type"
    if request.method == "POST":
        # A page answering a POST (422, choice of commune) is the same URL: pushing it
        # again would make the back button stay on the page once per error.
        response.headers["HX-Push-Url"] = "false"
    elif request.headers.get("HX-History-Restore-Request") == "true" and (url := current_url()):
        # Back to a page that now redirects (the check page once sent): show the URL
        # of what is displayed.
        response.headers["HX-Replace-Url"] = url
    return response
