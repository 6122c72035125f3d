"""Rendered entries in the shared cache carry the release, so a deploy never serves the
previous release's pages; every process of one release agrees on it."""

import os
import shutil

import pytest

from config import release
from config.release import code_stamp, release_stamp
from tests.config.test_settings import ROOT, read_settings


@pytest.fixture
def shipped(tmp_path):
    """A small copy of what a release ships."""
    (tmp_path / "templates" / "learners").mkdir(parents=True)
    (tmp_path / "templates" / "learners" / "dashboard.html").write_text("<h1>Mon parcours</h1>")
    (tmp_path / "learners").mkdir()
    (tmp_path / "learners" / "views.py").write_text("def dashboard(request): ...\n")
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "css" / "campus.css").write_text("body { color: #161616; }")
    (tmp_path / "locale" / "en" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "locale" / "en" / "LC_MESSAGES" / "django.po").write_text('msgid "Bonjour"\n')
    return tmp_path


@pytest.mark.parametrize(
    "changed",
    [
        "templates/learners/dashboard.html",
        "learners/views.py",
        "static/css/campus.css",
        "locale/en/LC_MESSAGES/django.po",
    ],
)
def test_a_change_to_a_shipped_file_makes_a_new_release(shipped, changed):
    before = code_stamp(shipped)
    with (shipped / changed).open("a") as file:
        file.write("\n/* changed */")
    assert code_stamp(shipped) != before


def test_a_file_moved_to_another_name_makes_a_new_release(shipped):
    before = code_stamp(shipped)
    (shipped / "static" / "css" / "campus.css").rename(shipped / "static" / "css" / "print.css")
    assert code_stamp(shipped) != before


def test_files_a_machine_generates_leave_the_release_unchanged(shipped):
    # A worker without bytecode or compiled messages must compute the web's stamp.
    before = code_stamp(shipped)
    (shipped / "learners" / "__pycache__").mkdir()
    (shipped / "learners" / "__pycache__" / "views.cpython-311.pyc").write_bytes(b"\x00bytecode")
    (shipped / "locale" / "en" / "LC_MESSAGES" / "django.mo").write_bytes(b"\xde\x12\x04\x95")
    assert code_stamp(shipped) == before


def test_two_copies_of_one_release_agree(shipped, tmp_path_factory):
    copy = tmp_path_factory.mktemp("elsewhere") / "campus"
    shutil.copytree(shipped, copy)
    assert code_stamp(copy) == code_stamp(shipped)


def test_a_release_named_by_the_deployment_wins(shipped, monkeypatch):
    monkeypatch.setenv("CAMPUS_RELEASE", " 2026.11.3 ")
    assert release_stamp(shipped) == "2026.11.3"
    monkeypatch.setenv("CAMPUS_RELEASE", "")
    assert release_stamp(shipped) == code_stamp(shipped)


def test_editors_leftovers_leave_the_release_unchanged(shipped):
    before = code_stamp(shipped)
    (shipped / "templates" / "learners" / ".dashboard.html.swp").write_bytes(b"b0VIM")
    (shipped / "templates" / "learners" / "dashboard.html~").write_text("<h1>Ancien</h1>")
    (shipped / "learners" / "views.py.orig").write_text("def old(): ...\n")
    assert code_stamp(shipped) == before


def test_the_versions_of_django_and_wagtail_are_part_of_the_release(shipped, monkeypatch):
    before = code_stamp(shipped)
    monkeypatch.setattr(release, "_distribution_version", lambda name: f"{name}-next")
    assert code_stamp(shipped) != before


def test_the_settings_name_the_running_release(tmp_path):
    env = dict(os.environ)
    env.pop("CAMPUS_RELEASE", None)
    env.update(DJANGO_SETTINGS_MODULE="config.settings", CAMPUS_VAR_DIR=str(tmp_path))
    assert read_settings(env, "settings.CACHE_RELEASE") == [code_stamp(ROOT)]

    env["CAMPUS_RELEASE"] = "2026.11.3"
    assert read_settings(env, "settings.CACHE_RELEASE") == ["2026.11.3"]


def test_rendered_entries_carry_the_release_and_counters_do_not(settings):
    from certification import verification_cache
    from courses import catalogue_cache
    from learners import page_versions

    settings.CACHE_RELEASE = "2026.11.3"
    assert verification_cache.key("ABCD", "fr").startswith("release:2026.11.3:")
    assert catalogue_cache.key("html", 7, "tiers-lieux").startswith("release:2026.11.3:")
    shared = [*page_versions.version_keys(42), verification_cache.generation_key("ABCD")]
    assert not any("2026.11.3" in key for key in shared)
