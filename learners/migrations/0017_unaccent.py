"""PostgreSQL's unaccent extension, for accent-insensitive name search (learners/accents.py).

A trusted extension: the database's owner creates it without being a superuser. SQLite
gets a Python function instead, and this operation does nothing there.
"""

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("learners", "0016_invitation_undelivered")]

    operations = [UnaccentExtension()]
