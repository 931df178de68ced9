"""A spam score for a draft: SpamAssassin's rules run offline on the whole email.

Run as a subprocess (Debian's `spamassassin` package) in local mode (-L: no DNS
blocklists, Razor or Pyzor: nothing leaves the machine), without Bayes or user
preferences, under a timeout. Where it is not installed the result says so.
"""

import re
import subprocess  # nosec B404 - a fixed command, no shell
from dataclasses import dataclass, field

from django.conf import settings

_STATUS = re.compile(r"score=(-?[\d.]+)\s+required=(-?[\d.]+)")
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$")


@dataclass(frozen=True)
class Rule:
    name: str
    score: float
    description: str


@dataclass(frozen=True)
class SpamReport:
    available: bool
    score: float = 0.0
    required: float = 5.0
    rules: list[Rule] = field(default_factory=list)
    problem: str = ""

    @property
    def fired(self) -> list[Rule]:
        """Rules that moved the score, highest first (informational ones left out)."""
        scoring = [rule for rule in self.rules if rule.score != 0]
        return sorted(scoring, key=lambda rule: -rule.score)


def command() -> list[str]:
    return [
        settings.SPAMASSASSIN_COMMAND,
        "--local",
        "--test-mode",
        "--nocreate-prefs",
        "--prefspath=/dev/null",
        "--cf=use_bayes 0",
    ]


def check(email: bytes) -> SpamReport:
    try:
        finished = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            command(),
            input=email,
            capture_output=True,
            timeout=settings.SPAMASSASSIN_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        return SpamReport(available=False, problem="not installed")
    except subprocess.TimeoutExpired:
        return SpamReport(available=False, problem="timed out")
    return parse(finished.stdout.decode("utf-8", "replace"))


def parse(output: str) -> SpamReport:
    status = _STATUS.search(output)
    if status is None:
        return SpamReport(available=False, problem="no report")
    # The report is appended after the email itself: read only its last table.
    report = output.rpartition("Content analysis details:")[2]
    rules, in_table = [], False
    for line in report.splitlines():
        if line.startswith("---- "):
            in_table = True
            continue
        if not in_table:
            continue
        match = _RULE.match(line)
        if match:
            score, name, description = match.groups()
            rules.append(Rule(name, float(score), description.strip()))
        elif line.startswith(" " * 6) and rules:
            last = rules.pop()
            rules.append(
                Rule(last.name, last.score, f"{last.description} {line.strip()}")
            )
        elif not line.strip():
            break
    return SpamReport(
        available=True,
        score=float(status.group(1)),
        required=float(status.group(2)),
        rules=rules,
    )
