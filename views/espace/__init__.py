"""The espace association (/espace/): staff log in and work their association's leads.

One blueprint; each module of this package adds its routes to it.
"""

from flask import Blueprint

bp = Blueprint("espace", __name__, url_prefix="/espace")

from views.espace import account, double_auth, inbox, lead, settings  # noqa: E402, F401
