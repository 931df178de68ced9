"""Every user-facing string has a Russian translation, and the .mo files match.

Three checks per catalogue: no empty or fuzzy Russian entry; the compiled .mo holds
exactly what the .po says; and the catalogue is not stale, i.e. extracting the
strings from the source again (makemessages on a copy) finds nothing it lacks.
"""

import ast
import gettext
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ["accounts", "mailing", "home", "blog"]
# The top-level catalogue holds the strings of these folders.
TOP_LEVEL_SOURCES = ["templates", "site_config"]
KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$")


@dataclass
class Entry:
    fields: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> str:
        msgid = self.fields.get("msgid", "")
        ctxt = self.fields.get("msgctxt")
        return f"{ctxt}\x04{msgid}" if ctxt is not None else msgid

    @property
    def translations(self) -> dict:
        if "msgid_plural" not in self.fields:
            return {self.key: self.fields.get("msgstr", "")}
        return {
            (self.key, int(name[7:-1])): value
            for name, value in self.fields.items()
            if name.startswith("msgstr[")
        }


def read_po(path: Path) -> list[Entry]:
    entries, entry, current = [], Entry(), None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if not line:
            if entry.fields:
                entries.append(entry)
            entry, current = Entry(), None
        elif line.startswith("#~"):
            entry.obsolete = True
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := KEYWORD.match(line):
            current = match.group(1)
            entry.fields[current] = ast.literal_eval(match.group(2))
        elif line.startswith('"') and current:
            entry.fields[current] += ast.literal_eval(line)
    return [e for e in entries if not e.obsolete]


def catalogues() -> list[Path]:
    found = [ROOT / "locale"] + [ROOT / app / "locale" for app in APPS]
    return [path for path in found if (path / "ru/LC_MESSAGES/django.po").exists()]


def label(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.smoke
@pytest.mark.parametrize("locale_dir", catalogues(), ids=label)
def test_every_russian_entry_is_translated_and_not_fuzzy(locale_dir):
    entries = read_po(locale_dir / "ru/LC_MESSAGES/django.po")
    untranslated = [
        e.key for e in entries if e.key and not all(e.translations.values())
    ]
    fuzzy = [e.key or "(header)" for e in entries if "fuzzy" in e.flags]

    assert entries, "empty catalogue"
    assert untranslated == [], "no Russian translation"
    assert fuzzy == [], "fuzzy entries are not used at runtime"


@pytest.mark.smoke
@pytest.mark.parametrize(
    "po_path",
    [path for d in catalogues() for path in sorted(d.glob("*/LC_MESSAGES/django.po"))],
    ids=label,
)
def test_compiled_catalogue_matches_the_po(po_path):
    expected = {}
    for entry in read_po(po_path):
        if (
            entry.key
            and "fuzzy" not in entry.flags
            and all(entry.translations.values())
        ):
            expected.update(entry.translations)
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"run `make messages`: {label(mo_path)} is missing"
    with mo_path.open("rb") as mo_file:
        compiled = dict(gettext.GNUTranslations(mo_file)._catalog)
    compiled.pop("", None)

    assert compiled == expected, f"{label(mo_path)} is stale: run `make messages`"


def extract_msgids(sources: list[Path], tmp_path: Path) -> set[str]:
    """Run makemessages on a copy of `sources`, as `make messages` would."""
    work = tmp_path / "src"
    for source in sources:
        shutil.copytree(
            source, work / source.name, ignore=shutil.ignore_patterns("locale")
        )
    (work / "locale").mkdir()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "makemessages", "-l", "ru"],
        cwd=work,
        check=True,
        capture_output=True,
    )
    po = work / "locale/ru/LC_MESSAGES/django.po"
    return {e.key for e in read_po(po) if e.key} if po.exists() else set()


SOURCES = {"locale": TOP_LEVEL_SOURCES, **{f"{app}/locale": [app] for app in APPS}}


@pytest.mark.slow
@pytest.mark.parametrize("catalogue", sorted(SOURCES))
def test_catalogue_has_every_string_of_the_source(catalogue, tmp_path):
    if not shutil.which("xgettext"):
        pytest.skip("needs gettext's xgettext: apt-get install gettext")
    in_source = extract_msgids([ROOT / s for s in SOURCES[catalogue]], tmp_path)
    po_path = ROOT / catalogue / "ru/LC_MESSAGES/django.po"
    if not po_path.exists():
        if in_source:
            pytest.skip(
                f"{catalogue} does not exist yet though its app has strings: "
                "its owner creates it with `make messages`"
            )
        return
    in_catalogue = {e.key for e in read_po(po_path) if e.key}

    assert sorted(in_source - in_catalogue) == [], "run `make messages` and translate"
