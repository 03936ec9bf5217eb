"""SMS texts: the GSM 03.38 alphabet (GSM-7), in which one SMS carries 160 characters
(a character outside it turns the whole SMS into UCS-2: 70 characters, so two or three
SMS for the same text, each paid), and how many SMS a text costs.

`to_gsm7` writes French text in GSM-7: the accented letters the alphabet has (é è à ù
ì ò É Ç) stay, the others lose their accent (ê → e, ç → c, œ → oe), typographic quotes
and dashes become plain ones. A first name « Maëlle » arrives as « Maelle »: better one
SMS read at once than three.
"""

# The basic table of GSM 03.38 (one septet each) and its extension (two septets: ESC + char).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

SINGLE_GSM7, PART_GSM7 = 160, 153  # septets: one SMS, each part of a long one
SINGLE_UCS2, PART_UCS2 = 70, 67

# French letters and signs outside GSM-7, and their nearest writing inside it.
FRENCH = {
    "â": "a", "ê": "e", "ë": "e", "î": "i", "ï": "i", "ô": "o", "û": "u", "ÿ": "y",
    "ç": "c", "œ": "oe",
    "À": "A", "Â": "A", "È": "E", "Ê": "E", "Ë": "E", "Î": "I", "Ï": "I", "Ô": "O",
    "Ù": "U", "Û": "U", "Ÿ": "Y", "Œ": "OE",
    "’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"', "–": "-", "—": "-",
    "…": "...", "\u00a0": " ", "\u202f": " ", "·": ".",
}  # fmt: skip


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text)


def to_gsm7(text: str) -> str:
    """`text` with each French character outside GSM-7 replaced by its nearest one;
    characters of other scripts are kept (the SMS is then sent in UCS-2)."""
    return "".join(FRENCH.get(char, char) for char in text)


def septets(text: str) -> int:
    return sum(2 if char in GSM7_EXTENDED else 1 for char in text)


def segments(text: str) -> int:
    """How many SMS `text` is sent as (each one paid)."""
    if is_gsm7(text):
        length, single, part = septets(text), SINGLE_GSM7, PART_GSM7
    else:
        # UCS-2 counts UTF-16 code units: a character beyond the BMP (an emoji) is two.
        length, single, part = len(text.encode("utf-16-le")) // 2, SINGLE_UCS2, PART_UCS2
    if length <= single:
        return 1
    return -(-length // part)
