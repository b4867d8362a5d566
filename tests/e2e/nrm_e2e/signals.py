"""The personal data the suite submits and the signals built from it.

Every personal value the suite ever submits comes from PERSONAL, so that
every daemon's stderr (and the audit table) can be scanned for
PERSONAL_FRAGMENTS: logs must never hold personal data.
"""

import datetime
import uuid

def _today():
    return datetime.datetime.now(datetime.timezone.utc).date()


# Every personal value the suite submits.  Distinctive, so that a scan of
# the logs cannot match them by accident.
PERSONAL = {
    "given_name": "Ilvarinde",
    "family_name": "Throckwelle-Ossandir",
    "given_name_minor": "Quennalyth",
    "family_name_minor": "Brandsvoort",
    "given_name_utf8": "Zoë-Ærendis",
    "family_name_utf8": "Ångströmvik",
    "birth_date": "1987-11-23",
    "birth_date_minor": "%04d-03-14" % (_today().year - 15),
    "phone": "+31 6 4827 1953",
    "address": "Zwaluwhofsteeg 917, Nergenshuizen",
    "narrative": "Werkte zeventien uur per dag bij kwekerij Vlinderbloem; "
    "paspoort ingehouden door de opzichter Gorvandel.",
}

# The suite interpolates these into SQL literals.
assert all("'" not in v for v in PERSONAL.values())

# Distinctive fragments that must never appear in a log line.
PERSONAL_FRAGMENTS = sorted(
    {
        "Ilvarinde",
        "Throckwelle",
        "Ossandir",
        "Quennalyth",
        "Brandsvoort",
        "Ærendis",
        "rendis",  # the part after a possibly escaped Æ
        "Ångströmvik",
        "mvik",
        "1987-11-23",
        PERSONAL["birth_date_minor"],
        "4827 1953",
        "48271953",
        "Zwaluwhofsteeg",
        "Nergenshuizen",
        "Vlinderbloem",
        "zeventien uur",
        "Gorvandel",
    }
)

def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def new_ref():
    """A unique, non-personal reporter_reference."""
    return "e2e-" + uuid.uuid4().hex


def adult_signal(**overrides):
    """A complete, valid signal about an adult who consents."""
    body = {
        "observed_at": rfc3339(now_utc() - datetime.timedelta(hours=2)),
        "location": {"municipality_code": "GM0363"},
        "reporter_reference": new_ref(),
        "subject": {
            "given_name": PERSONAL["given_name"],
            "family_name": PERSONAL["family_name"],
            "birth_date": PERSONAL["birth_date"],
            "gender": "female",
            "nationality": "RO",
            "languages": ["ro", "en"],
            "contact": {
                "phone": PERSONAL["phone"],
                "address": PERSONAL["address"],
            },
        },
        "exploitation": ["labour"],
        "control_means": ["documents_withheld", "excessive_hours"],
        "urgency": {"immediate_danger": False, "needs_shelter": False},
        "consent": "given",
        "narrative": PERSONAL["narrative"],
    }
    body.update(overrides)
    return body


def minor_signal(**overrides):
    """A valid signal about a minor (by birth date)."""
    body = adult_signal()
    body["subject"] = {
        "given_name": PERSONAL["given_name_minor"],
        "family_name": PERSONAL["family_name_minor"],
        "birth_date": PERSONAL["birth_date_minor"],
        "gender": "male",
        "nationality": "NG",
        "languages": ["en"],
    }
    body["exploitation"] = ["criminal"]
    body["consent"] = "not_required_minor"
    body.update(overrides)
    return body


def notification_signal(**overrides):
    """An adult who refuses consent: only non-identifying fields."""
    body = adult_signal()
    del body["narrative"]
    body["observed_at"] = rfc3339(now_utc() - datetime.timedelta(hours=1))
    body["location"] = {"municipality_code": "GM0599"}
    body["subject"] = {
        "age_estimate": 30,
        "gender": "male",
        "nationality": "PL",
        "languages": ["pl"],
    }
    body["exploitation"] = ["labour", "criminal"]
    body["control_means"] = ["debt_bondage"]
    body["consent"] = "refused"
    body.update(overrides)
    return body
