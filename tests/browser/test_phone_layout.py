"""What a new user sees on a small phone (320 px wide, issue 5 §4): the progress bar, the
proposed association's heading, the consent box for sensitive answers, the alternatives.

The answers that only lead to the page under test are sent through the page's own
request context (same cookies, a real CSRF token): the walk itself is tested elsewhere.
"""

import datetime as dt
import re
import struct
import zlib
from urllib.parse import urlencode

from helpers import MENTOR_STEPS, YOUTH_STEPS
from playwright.sync_api import expect

import models

SMALL_PHONE = {"viewport": {"width": 320, "height": 640}}
BLUE = (0x00, 0x00, 0x91)
TRACK = (0xE3, 0xE3, 0xFD)
SENSITIVE_CONSENT = re.compile(r"^J'accepte que ma situation de handicap")
HANDICAP = "Je suis en situation de handicap"
ASE = "Je suis ou j'ai été accompagné·e par l'aide sociale à l'enfance (ASE)"


def answer(page, parcours, steps):
    """Post `steps` as the browser would (its cookies, a token read from a page, the page
    as Referer: over HTTPS the CSRF check asks for it)."""
    page.goto(f"/{parcours}/{steps[0][0]}" if steps else f"/{parcours}")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    for name, data in steps:
        response = page.request.post(
            f"/{parcours}/{name}",
            data=urlencode({**data, "csrf_token": token}, doseq=True),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": page.url},
            max_redirects=0,
        )
        assert response.status == 303, (name, response.text()[:500])


def send(page, parcours, steps):
    """Answer every step and send: returns the result page's path."""
    answer(page, parcours, steps)
    page.goto(f"/{parcours}/verifier")
    page.get_by_label(re.compile(r"^J'accepte que mes réponses")).check()
    page.get_by_role("button", name=re.compile(r"^Envoyer")).click()
    expect(page).to_have_url(re.compile(rf"/{parcours}/resultat/[MJ]-\w+$"))
    return page.url


# --- 1. Progress --------------------------------------------------------------------------


def png_pixels(data):
    """Rows of (r, g, b) of an 8-bit RGB(A) PNG, as Chromium writes screenshots (no
    library for it in the pinned dependencies: the format is zlib and five filters)."""
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    size = 3 if colour == 2 else 4
    stream, offset = b"", 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        if data[offset + 4 : offset + 8] == b"IDAT":
            stream += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    raw, stride = zlib.decompress(stream), width * size + 1
    rows, previous = [], bytes(width * size)
    for y in range(height):
        line = unfilter(
            raw[y * stride], bytearray(raw[y * stride + 1 : (y + 1) * stride]), previous, size
        )
        rows.append([tuple(line[x : x + 3]) for x in range(0, len(line), size)])
        previous = line
    return rows


def unfilter(kind, line, previous, size):
    for x in range(len(line)):
        left = line[x - size] if x >= size else 0
        up, corner = previous[x], (previous[x - size] if x >= size else 0)
        if kind == 4:  # Paeth: the neighbour closest to left + up - corner
            guess = left + up - corner
            predictor = min((left, up, corner), key=lambda n: abs(guess - n))
        else:
            predictor = (0, left, up, (left + up) // 2)[kind]
        line[x] = (line[x] + predictor) & 255
    return bytes(line)


def close(colour, expected, tolerance=24):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def test_progress_bar_is_filled_from_the_first_page(new_page, assert_accessible):
    page = new_page(**SMALL_PHONE)
    page.goto("/jeune/age")
    bar = page.locator("progress.progress__bar")
    expect(bar).to_have_attribute("value", "1")
    expect(bar).to_have_accessible_name("Avancement du questionnaire")
    # Not a bordered box as tall as a field: a thin track, no border.
    style = bar.evaluate(
        "el => { const s = getComputedStyle(el); return [s.borderTopWidth, s.borderLeftWidth]; }"
    )
    assert style == ["0px", "0px"], style
    field = page.get_by_label("Quel âge avez-vous ?", exact=True).bounding_box()
    box = bar.bounding_box()
    assert box["height"] <= field["height"] / 3, (box, field)
    # Filled in blue on its left, the track's colour on its right (the jeune parcours has
    # no « Étape n sur N »: the number of pages moves with the age).
    rows = png_pixels(bar.screenshot())
    middle, width = rows[len(rows) // 2], len(rows[0])
    assert close(middle[width // 40 + 2], BLUE), middle[width // 40 + 2]
    assert close(middle[width - 8], TRACK), middle[width - 8]
    assert page.get_by_text(re.compile(r"Étape \d")).count() == 0
    assert_accessible(page)


def test_mentor_parcours_says_which_step_of_how_many(new_page, assert_accessible):
    page = new_page(**SMALL_PHONE)
    answer(page, "mentor", MENTOR_STEPS[:1])
    page.goto("/mentor/age")
    label = page.locator(".progress__label")
    expect(label).to_have_text("Étape 2 sur 7")
    expect(page.locator("progress")).to_have_accessible_name("Étape 2 sur 7")
    assert_accessible(page)


# --- 2. « Association proposée » ------------------------------------------------------------


def test_proposed_association_name_starts_its_own_line(new_page, assert_accessible):
    page = new_page(**SMALL_PHONE)
    send(page, "jeune", YOUTH_STEPS)
    heading = page.locator("#proposition")
    expect(heading).to_have_text(re.compile(r"^Association proposée\s:\s\S"))
    lines = heading.evaluate(
        """h => {
            const caption = h.querySelector(".card__caption");
            const range = document.createRange();
            range.setStartAfter(caption);
            range.setEndAfter(h.lastChild);
            const name = Array.from(range.getClientRects()).filter(r => r.width > 1);
            return {
                captionLines: caption.getClientRects().length,
                captionHeight: caption.getBoundingClientRect().height,
                captionBottom: caption.getBoundingClientRect().bottom,
                headingLeft: h.getBoundingClientRect().left,
                nameTop: name[0].top, nameLeft: name[0].left,
                lineHeight: parseFloat(getComputedStyle(caption).lineHeight),
            };
        }"""
    )
    # The caption, colon included, is one line; the name begins the next one.
    assert lines["captionLines"] == 1, lines
    assert lines["captionHeight"] <= lines["lineHeight"] * 1.1, lines
    assert lines["nameTop"] >= lines["captionBottom"] - 1, lines
    assert abs(lines["nameLeft"] - lines["headingLeft"]) < 24, lines  # the card's padding
    assert page.evaluate("document.documentElement.scrollWidth") == 320
    assert_accessible(page)


# --- 3. Consent for sensitive answers -----------------------------------------------------


def open_situations_page(page):
    answer(page, "jeune", YOUTH_STEPS[:4])
    page.goto("/jeune/situation-particuliere")


def tab_order(page):
    """The ids of the form's controls the keyboard reaches, in order."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll("main input, main button"))
            .filter(el => el.type !== "hidden" && el.checkVisibility())
            .map(el => el.id || el.textContent.trim())"""
    )


def test_sensitive_consent_is_revealed_when_handicap_or_ase_is_ticked(new_page, assert_accessible):
    page = new_page(**SMALL_PHONE)
    open_situations_page(page)
    consent = page.get_by_label(SENSITIVE_CONSENT)
    zone = page.locator("#accord_sensible-conditional")
    # Hidden: not shown, not focusable, not read out.
    expect(consent).to_be_hidden()
    assert "accord_sensible" not in tab_order(page)
    expect(page.get_by_role("checkbox", name=SENSITIVE_CONSENT)).to_have_count(0)
    assert_accessible(page)

    handicap = page.get_by_label(HANDICAP, exact=True)
    expect(handicap).to_have_attribute("aria-controls", "accord_sensible-conditional")
    page.get_by_label("Je suis boursier ou boursière", exact=True).check()
    expect(consent).to_be_hidden()  # a box that is not sensitive
    handicap.check()
    expect(zone).to_be_visible()
    expect(consent).to_be_visible()
    # Right after the list, before « Continuer ».
    order = tab_order(page)
    assert order.index("accord_sensible") == order.index("Continuer") - 1, order
    assert_accessible(page)
    handicap.uncheck()
    expect(consent).to_be_hidden()

    page.get_by_label(ASE, exact=True).check()
    consent.check()
    page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_url(re.compile(r"/jeune/rencontre$"))
    with models.db.connection_context():
        answers = models.Draft.get().answers["situation-particuliere"]
    assert answers == {"situations_particulieres": ["ase", "boursier"], "accord_sensible": True}


def test_sensitive_consent_without_js_is_asked_by_the_server(
    new_page, console_errors, assert_accessible
):
    console_errors.allow_http_error(422, "/jeune/situation-particuliere")
    page = new_page(js=False, **SMALL_PHONE)
    open_situations_page(page)
    consent = page.get_by_label(SENSITIVE_CONSENT)
    expect(consent).to_be_hidden()
    page.get_by_label(HANDICAP, exact=True).check()
    page.get_by_role("button", name="Continuer").click()

    # Back with the box shown and the reason.
    expect(page).to_have_title(re.compile(r"^Erreur : "))
    expect(consent).to_be_visible()
    expect(page.locator(".error-summary")).to_contain_text("cochez la case d'accord")
    expect(page.get_by_label(HANDICAP, exact=True)).to_be_checked()
    assert_accessible(page)
    consent.check()
    page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_url(re.compile(r"/jeune/rencontre$"))

    # Coming back: the ticked answers and the consent, shown.
    page.goto("/jeune/situation-particuliere")
    expect(consent).to_be_visible()
    expect(consent).to_be_checked()


# --- 4. Alternatives ----------------------------------------------------------------------


def test_alternatives_are_compact_and_never_repeat_the_proposal(new_page, assert_accessible):
    page = new_page()  # 375 px: the width the 3,700 px were measured at
    send(page, "mentor", MENTOR_STEPS)
    proposal = page.locator("section.card--proposal ul.reasons > li").all_inner_texts()
    cards = page.locator("li.alternative")
    assert cards.count() >= 2  # Lyon: three programmes for this mentor
    seen = set(proposal)
    for card in cards.all():
        reasons = card.locator("ul.reasons > li").all_inner_texts()
        assert len(reasons) <= 2, reasons
        assert not seen & set(reasons), reasons  # no sentence said twice on the page
        seen |= set(reasons)
        delay = card.get_by_text(re.compile(r"^Recontact sous \d+ jours ouvrés\.$"))
        expect(delay).to_be_visible()
        choose = card.get_by_role("button", name=re.compile(r"^Choisir .+ à la place$"))
        expect(choose).to_be_visible()
    # Each alternative takes a fraction of the proposal's room; the page, well under the
    # 3,700 px it took when every card repeated the proposal's reasons (3,300: it now also
    # says where the confirmation e-mail and its follow-up link went).
    proposal_height = page.locator("section.card--proposal").bounding_box()["height"]
    for card in cards.all():
        assert card.bounding_box()["height"] < proposal_height / 3
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"page de résultat mentor, 375 px : {height} px")
    assert height < 3300, height
    assert_accessible(page)


# --- 5. Deep links and expired answers ----------------------------------------------------

EXPIRED = "Votre session a expiré ou vous n'avez pas encore répondu aux questions précédentes"


def test_a_deep_link_in_a_fresh_browser_says_why(new_page, js, assert_accessible):
    page = new_page(js=js, **SMALL_PHONE)
    page.goto("/jeune/rencontre")
    expect(page).to_have_url(re.compile(r"/jeune/age\?depuis=rencontre$"))
    expect(page.locator("#renvoi")).to_contain_text(EXPIRED)
    expect(page.get_by_role("heading", level=1)).to_have_text("Quel âge avez-vous ?")
    assert_accessible(page)


def test_answers_expired_during_a_pause_say_so_after_the_swap(new_page, assert_accessible):
    page = new_page(**SMALL_PHONE)
    answer(page, "jeune", YOUTH_STEPS[:2])
    page.goto("/jeune/besoin")
    earlier = models.now() - dt.timedelta(hours=25)
    with models.db.connection_context():
        models.Draft.update(updated_at=earlier).execute()
    page.get_by_label("Je ne sais pas quelle orientation choisir", exact=True).check()
    page.get_by_role("button", name="Continuer").click()
    notice = page.locator("#renvoi")
    expect(notice).to_contain_text(EXPIRED)
    expect(notice).to_be_focused()  # read out before the question, after the htmx swap
    expect(page.get_by_role("heading", level=1)).to_have_text("Quel âge avez-vous ?")
    assert_accessible(page)
