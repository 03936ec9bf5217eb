"""The sentences of /suivi that differ between a youth's demande and a mentor's
candidature (issue 15 §3): a mentor is not « accompagné·e », a candidature is « close »
as a demande is. Data, read by the templates through `wording(kind)`."""

WORDING = {
    "jeune": {
        "stop": "Je ne souhaite plus être accompagné·e",
        "stop_intro": "Votre demande sera close et l'association ne vous recontactera plus.",
        "stop_button": "Clore ma demande",
        "not_contacted": "Je n'ai pas été recontacté·e",
    },
    "mentor": {
        "stop": "Je ne souhaite plus devenir mentor",
        "stop_intro": ("Votre candidature sera close et l'association ne vous recontactera plus."),
        "stop_button": "Clore ma candidature",
        "not_contacted": "Je n'ai pas été recontacté·e",
    },
}


def wording(kind: str) -> dict[str, str]:
    return WORDING["mentor" if kind == "mentor" else "jeune"]
