"""The request class: Werkzeug's, with junk in a form or a query string read without a 500
(moved from app.py)."""

from urllib.parse import parse_qsl

import flask
from werkzeug.utils import cached_property


class Request(flask.Request):
    def _load_form_data(self):
        super()._load_form_data()
        # Werkzeug names None a multipart part whose name it cannot read (a newline in
        # it), and Flask-WTF fails on that name (a 500): such a part is no field.
        for name in ("form", "files"):
            fields = self.__dict__[name]
            if None in fields:
                named = [(k, v) for k, v in fields.items(multi=True) if k is not None]
                self.__dict__[name] = type(fields)(named)

    @cached_property
    def args(self):
        # Werkzeug decodes the raw query string strictly: bytes that are not UTF-8 (no
        # browser sends them, a hostile client may) raised a 500. They are kept
        # percent-encoded instead, as Werkzeug already does for invalid %XX escapes.
        query = self.query_string.decode("utf-8", "werkzeug.url_quote")
        return self.parameter_storage_class(
            parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote")
        )
