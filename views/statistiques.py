"""/statistiques: the public figures, as tick last computed them (statistiques.page():
one query per visit), each chart drawn as inline SVG with its table."""

from flask import Blueprint

from domain import dates
from services import statistiques as S
from views.rendering import render

bp = Blueprint("statistiques", __name__)

# (name of statistiques.COUNTS, chart title, column heading)
COUNT_CHARTS = (
    ("jeunes", "Demandes de jeunes reçues", "Demandes"),
    ("mentors", "Candidatures de mentors reçues", "Candidatures"),
    ("orientations", "Orientations vers une association", "Orientations"),
    ("transferts", "Demandes confiées à une autre association", "Transferts"),
    ("binomes", "Binômes formés", "Binômes"),
)
MONTH_ABBREVIATIONS = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
TOP_DEPARTEMENTS = 15


def short_month(month):
    """Under its bar: the month only (the title, the description and the table say the
    year), so that twelve fit side by side on a phone."""
    return MONTH_ABBREVIATIONS[int(month.split("-")[1]) - 1]


def _period(page):
    return f"de {page.months[0].label} à {page.months[-1].label}"


def _count_chart(page, name, title, heading):
    points = [(short_month(m.key), m.counts.get(name, 0)) for m in page.months]
    peak = max(page.months, key=lambda m: m.counts.get(name, 0))
    total = page.total.counts.get(name, 0)
    desc = f"{title}, par mois, {_period(page)} : {total} au total"
    desc += f", le plus en {peak.label} ({peak.counts.get(name, 0)})." if total else "."
    rows = [(m.label, [str(m.counts.get(name, 0))]) for m in page.months]
    return dict(
        id=f"graphique-{name}",
        title=f"{title} par mois",
        desc=desc,
        chart=S.bar_chart(points),
        headings=[heading],
        rows=rows,
        total=[str(total)],
    )


def _median_chart(page):
    points = [(short_month(m.key), m.median_days) for m in page.months]
    known = [m for m in page.months if m.median_days is not None]
    desc = "Délai médian avant le premier contact, en jours ouvrés, par mois, " + _period(page)
    if known:
        low = min(known, key=lambda m: m.median_days)
        high = max(known, key=lambda m: m.median_days)
        desc += (
            f" : de {S.format_days(low.median_days)} ({low.label})"
            f" à {S.format_days(high.median_days)} ({high.label})."
        )
    else:
        desc += " : personne n'a encore été recontacté."
    return dict(
        id="graphique-delai",
        title="Délai médian avant le premier contact, en jours ouvrés, par mois",
        desc=desc,
        chart=S.bar_chart(points),
        headings=["Délai médian (jours ouvrés)"],
        rows=[(m.label, [S.format_days(m.median_days)]) for m in page.months],
        total=[S.format_days(page.total.median_days)],
    )


def _share_chart(page):
    points = [(short_month(m.key), m.share) for m in page.months]
    desc = (
        "Part des personnes recontactées dans le délai promis, par mois, "
        f"{_period(page)} : {S.format_share(page.total.share)} sur toute la période"
        f" ({page.total.in_time} sur {page.total.decided})."
    )
    return dict(
        id="graphique-dans-le-delai",
        title="Part des personnes recontactées dans le délai promis, par mois",
        desc=desc,
        chart=S.bar_chart(points, scale_max=1, formatter=S.format_share),
        headings=["Dans le délai", "Comptées", "Part"],
        rows=[
            (m.label, [str(m.in_time), str(m.decided), S.format_share(m.share)])
            for m in page.months
        ],
        total=[str(page.total.in_time), str(page.total.decided), S.format_share(page.total.share)],
    )


def _departement_chart(page):
    ranked = sorted(page.departements, key=lambda d: (-d.counts.get("jeunes", 0), d.key))
    ranked = [d for d in ranked if d.counts.get("jeunes", 0)][:TOP_DEPARTEMENTS]
    points = [(d.key or "?", d.counts["jeunes"]) for d in ranked]
    desc = f"Demandes de jeunes par département, {_period(page)}, les {len(ranked)} premiers"
    desc += " : " + ", ".join(f"{d.label} {d.counts['jeunes']}" for d in ranked) + "."
    return dict(
        id="graphique-departements",
        title=f"Demandes de jeunes par département (les {TOP_DEPARTEMENTS} premiers)",
        desc=desc if ranked else "Aucune demande de jeune sur la période.",
        chart=S.bar_chart(points),
        headings=["Demandes"],
        rows=[(d.label, [str(d.counts["jeunes"])]) for d in ranked],
        total=None,
        row_heading="Département",
    )


def charts(page):
    found = [_count_chart(page, *spec) for spec in COUNT_CHARTS]
    return [*found, _median_chart(page), _share_chart(page), _departement_chart(page)]


@bp.get("/statistiques")
def statistiques():
    page = S.page()
    if page is None:
        return render("statistiques.html", page=None)
    computed = dates.with_time(page.computed_at)
    return render(
        "statistiques.html",
        page=page,
        charts=charts(page),
        computed=computed,
        count_charts=COUNT_CHARTS,
        margin_left=S.MARGIN_LEFT,
        font_size=S.FONT_SIZE,
        format_days=S.format_days,
        format_share=S.format_share,
    )
