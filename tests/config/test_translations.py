"""The French catalogue is complete and compiled: a machine without gettext runs in French."""

from pathlib import Path

import polib

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
