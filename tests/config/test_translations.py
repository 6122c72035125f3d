"""The French catalogue is complete and compiled: a machine without gettext runs in French."""

import os
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES"


def test_every_french_entry_is_translated_and_none_is_fuzzy():
    catalogue = polib.pofile(str(LOCALE / "django.po"))
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert missing == []
    assert fuzzy == []


def test_the_compiled_catalogue_matches_the_source():
    source = polib.pofile(str(LOCALE / "django.po"))
    compiled = polib.mofile(str(LOCALE / "django.mo"))
    translated = {
        (e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in source.translated_entries()
    }
    in_mo = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in compiled}
    missing = {key for key in translated if key not in in_mo or in_mo[key][0] != translated[key][0]}
    assert missing == set(), "run `make messages` to recompile the catalogue"


# What `make messages` extracts: the project's own sources, not the tests,
# the benchmarks or the virtualenv.
SOURCES = ("config", "courses", "learners", "certification", "templates")


def test_every_string_of_the_sources_has_a_french_translation(tmp_path, monkeypatch, settings):
    """The checks above read the catalogue as it is; a string added to the code
    and never extracted shows in English to a French user, and only extraction
    finds it. It runs on a copy, so the catalogue in the tree is left alone."""
    if shutil.which("xgettext") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("GNU gettext is missing: .ci/run installs it for this check")
        pytest.skip("GNU gettext is not installed (apt-get install gettext)")
    root = LOCALE.parents[2]
    for name in SOURCES:
        shutil.copytree(root / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(root / "locale", tmp_path / "locale")
    monkeypatch.chdir(tmp_path)
    settings.LOCALE_PATHS = [tmp_path / "locale"]

    call_command("makemessages", locale=["fr"], no_obsolete=True, verbosity=0)

    extracted = polib.pofile(str(tmp_path / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in extracted.untranslated_entries()]
    guessed = [entry.msgid for entry in extracted.fuzzy_entries()]
    assert missing == [], "new strings: run `make messages` and translate them"
    assert guessed == [], "gettext guessed these from similar strings: translate them"
