"""« Vouliez-vous dire …@gmail.com ? »: the usual misspellings of the e-mail domains most
used in France, caught when the person checks their answers (never blocking: a domain
that is not in this list is someone's own, and is left alone)."""

# The domains people mean, and the misspellings seen for each (typed on a phone).
DOMAINS = {
    "gmail.com": ("gmail.fr", "gmial.com", "gmai.com", "gmal.com", "gamil.com", "gmail.co",
                  "gmail.con", "gmail.cm", "gnail.com", "gmaill.com", "gmail.om", "g-mail.com"),
    "hotmail.fr": ("hotmail.fe", "hotmal.fr", "hotmai.fr", "hotmial.fr", "hotmil.fr", "hotmail.ft"),
    "hotmail.com": ("hotmal.com", "hotmai.com", "hotmial.com", "hotmail.con", "hotmail.co"),
    "outlook.fr": ("outlok.fr", "outloo.fr", "outlook.fe"),
    "outlook.com": ("outlok.com", "outloo.com", "outlook.con", "outlook.co"),
    "yahoo.fr": ("yaho.fr", "yahou.fr", "yahoo.fe", "yhaoo.fr"),
    "yahoo.com": ("yaho.com", "yahoo.con", "yhaoo.com"),
    "orange.fr": ("orange.fe", "oragne.fr", "ornage.fr", "orang.fr", "orange.com"),
    "wanadoo.fr": ("wanado.fr", "wanadoo.fe", "wandoo.fr"),
    "free.fr": ("free.fe", "fre.fr", "free.com"),
    "sfr.fr": ("sfr.fe", "sfr.com"),
    "laposte.net": ("laposte.fr", "lapost.net", "laposte.ne"),
    "icloud.com": ("icloud.fr", "iclould.com", "icoud.com", "icloud.con"),
}  # fmt: skip
MEANT = {typo: domain for domain, typos in DOMAINS.items() for typo in typos}


def suggestion(address: str | None) -> str | None:
    """The address with its domain corrected, or None when nothing looks misspelt."""
    local, at, domain = (address or "").strip().rpartition("@")
    if not at or not local:
        return None
    meant = MEANT.get(domain.lower())
    return f"{local}@{meant}" if meant else None
