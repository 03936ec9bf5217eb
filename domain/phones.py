"""French phone numbers, metropolitan and overseas, read with Google's libphonenumber
(`phonenumbers`): one rule for every number the service reads (a youth's, a parent's, a
mentor's, an association's in the catalogue file).

Accepted: a valid number of France or of a French overseas territory, written in the national
way ("06 12 34 56 78", "0692 12 34 56") or the international way ("+33 6 12 34 56 78",
"0033 6…", "+262 692…"), with spaces, dots, dashes, slashes or brackets. Refused: numbers of
other countries, premium-rate numbers (the person calling would pay), letters, extensions.

Stored in one form, E.164 ("+33612345678"); shown by `display`: the national format for
metropolitan France ("06 12 34 56 78"), the international one elsewhere ("+262 692 12 34 56"),
so that a number read in Paris or in Saint-Denis de La Réunion is dialled as shown.
"""

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

# France and the overseas territories with a number plan of their own in libphonenumber.
FRENCH_REGIONS = frozenset({"FR", "RE", "YT", "GP", "MF", "BL", "GF", "MQ", "PM", "WF", "NC", "PF"})
# The overseas départements share the national plan: "0262…", "0590…", "0694…" are dialled
# from the metropole too, but their E.164 form starts with +262, +590, +594 or +596.
# libphonenumber's metropolitan ranges are wide enough to take some of them for +33 numbers
# ("0269…"), so these regions are tried first, for their own geographic and mobile ranges.
DEPARTEMENTS_OUTRE_MER = ("RE", "YT", "GP", "GF", "MQ")
OWN_RANGES = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.VOIP,
    }
)
# Before 2007 Mayotte shared +269 with the Comoros: "+269 639…" is a Mayotte mobile.
MAYOTTE_LEGACY_CODE = 269
SMS_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
REFUSED_TYPES = frozenset({PhoneNumberType.PREMIUM_RATE})
# What people put between digits; anything else (letters, "ext.") is not a phone number.
WRITTEN = re.compile(r"\+?[0-9 .\-/()]+")
MAX_LENGTH = 30


def parse(text):
    """The PhoneNumber `text` designates, or None when it is not a French number."""
    text = (text or "").strip()
    if len(text) > MAX_LENGTH or not WRITTEN.fullmatch(text):
        return None
    try:
        number = phonenumbers.parse(text, "FR")
    except NumberParseException:
        return None
    if number.country_code in (33, MAYOTTE_LEGACY_CODE):
        regions = DEPARTEMENTS_OUTRE_MER if number.country_code == 33 else ("YT",)
        number = _overseas(number, regions) or number
    valid = phonenumbers.is_valid_number(number)
    french = phonenumbers.region_code_for_number(number) in FRENCH_REGIONS
    refused = phonenumbers.number_type(number) in REFUSED_TYPES
    return number if valid and french and not refused else None


def _overseas(number, regions):
    """The same national number read in an overseas département, when it is one of its own."""
    national = "0" + phonenumbers.national_significant_number(number)
    for region in regions:
        try:
            candidate = phonenumbers.parse(national, region)
        except NumberParseException:  # "00…" reads as an international prefix
            return None
        if (
            phonenumbers.is_valid_number(candidate)
            and phonenumbers.number_type(candidate) in OWN_RANGES
        ):
            return candidate
    return None


def canonical(text):
    """E.164 ("+33612345678"), or "" when `text` is not a French number."""
    number = parse(text)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164) if number else ""


def display(text):
    """How a stored number is shown; text that is not a number is shown as it is."""
    number = parse(text)
    if number is None:
        return text or ""
    style = (
        PhoneNumberFormat.NATIONAL if number.country_code == 33 else PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def href(text):
    """The tel: link of a number (E.164), or "" when it is not one."""
    number = canonical(text)
    return f"tel:{number}" if number else ""


def takes_sms(text):
    """A mobile (or a number libphonenumber cannot tell from a fixed line): SMS may work."""
    number = parse(text)
    return number is not None and phonenumbers.number_type(number) in SMS_TYPES
