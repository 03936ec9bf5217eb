"""Full page or htmx fragment from the same template and the same URL."""

from flask import make_response, render_template, request


def is_partial():
    # htmx 4 sends HX-Request-Type "full" for history restores and boosted loads.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Request-Type") != "full"
    )


def render(template, status=200, **context):
    """Render `template` (which extends `layout`) as a page or as the swapped region."""
    partial = is_partial()
    layout = "partial.html" if partial else "base.html"
    response = make_response(
        render_template(template, layout=layout, partial=partial, **context), status
    )
    response.headers["Vary"] = "HX-Request, HX-Request-Type"
    return response
