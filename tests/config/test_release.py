"""The shared cache's keys carry the release, so a deploy never serves the previous
release's pages, and every process of one release agrees on it."""

import os
import shutil

import pytest

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
    # A worker without collected static files or bytecode must compute the web's stamp.
    before = code_stamp(shipped)
    (shipped / "learners" / "__pycache__").mkdir()
    (shipped / "learners" / "__pycache__" / "views.cpython-311.pyc").write_bytes(b"\x00bytecode")
    (shipped / "locale" / "en" / "LC_MESSAGES" / "django.mo").write_bytes(b"\xde\x12\x04\x95")
    (shipped / "var" / "staticfiles").mkdir(parents=True)
    (shipped / "var" / "staticfiles" / "staticfiles.json").write_text("{}")
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


def test_the_shared_cache_keys_carry_the_release(tmp_path):
    env = dict(os.environ)
    env.pop("CAMPUS_RELEASE", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        CAMPUS_VAR_DIR=str(tmp_path),
        CACHE_URL="redis://127.0.0.1:6379/15",
    )
    (prefix,) = read_settings(env, "settings.CACHES['default']['KEY_PREFIX']")
    assert prefix == f"campus:{code_stamp(ROOT)}"

    env["CAMPUS_RELEASE"] = "2026.11.3"
    (prefix,) = read_settings(env, "settings.CACHES['default']['KEY_PREFIX']")
    assert prefix == "campus:2026.11.3"
