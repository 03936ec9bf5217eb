"""The load of `make load` (scripts/load.py runs it): each simulated person answers the
whole youth or mentor questionnaire as a browser does (GET each step, POST it with the
form's CSRF token, follow the 303), submits, and reads the result page. Each user starts
one journey every PACING seconds (constant_pacing): a fixed arrival rate of
users / PACING journeys per second while the server keeps up.

Request names are kinds ("POST /jeune/<étape>"), for the percentiles per kind."""

import itertools
import os
import re
import sys
from pathlib import Path

from locust import HttpUser, constant_pacing, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers import MENTOR_STEPS, YOUTH_STEPS  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PACING = float(os.environ.get("LOAD_PACING", "4"))
numbers = itertools.count()
JOURNEYS = {"jeune": 0, "mentor": 0}


def with_email(steps, parcours, number):
    steps = dict(steps)
    steps["coordonnees"] = dict(steps["coordonnees"], email=f"{parcours}{number}@example.org")
    return list(steps.items())


class Person(HttpUser):
    wait_time = constant_pacing(PACING)

    def page(self, path, kind):
        with self.client.get(path, name=kind, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return None
            return response.text

    def send(self, path, data, kind):
        with self.client.post(
            path,
            data=data,
            name=kind,
            allow_redirects=False,
            catch_response=True,
            headers={"Referer": self.host + path},
        ) as response:
            if response.status_code != 303:
                response.failure(f"{response.status_code} {path}")
                return None
            return response.headers["Location"]

    def journey(self, parcours, steps):
        number = next(numbers)
        page = self.page(f"/{parcours}/{steps[0][0]}", f"GET /{parcours}/<étape>")
        if page is None:
            return
        token = CSRF_RE.search(page).group(1)
        for name, data in with_email(steps, parcours, number):
            location = self.send(
                f"/{parcours}/{name}", dict(data, csrf_token=token), f"POST /{parcours}/<étape>"
            )
            if location is None:
                return
            kind = "verifier" if location.endswith("/verifier") else "<étape>"
            if self.page(location, f"GET /{parcours}/{kind}") is None:
                return
        location = self.send(
            f"/{parcours}/verifier",
            {"consentement": "y", "csrf_token": token},
            f"POST /{parcours}/verifier",
        )
        if location is None or self.page(location, f"GET /{parcours}/resultat") is None:
            return
        JOURNEYS[parcours] += 1

    @task
    def youth(self):
        self.journey("jeune", YOUTH_STEPS)

    @task
    def mentor(self):
        self.journey("mentor", MENTOR_STEPS)


@events.quitting.add_listener
def report(environment, **kwargs):
    print(f"JOURNEYS {JOURNEYS['jeune']} {JOURNEYS['mentor']}", flush=True)
