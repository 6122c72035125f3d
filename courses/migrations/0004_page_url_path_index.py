# courses.routing finds a page by its url_path in one query; Wagtail does not
# index that column, so at 1,000 modules and their lessons the lookup scanned
# the whole page table on every page view (bench/load.py, docs/performance.md).
from django.db import migrations

INDEX = "courses_page_url_path_idx"


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0003_module_quiz_and_track_positioning"),
        ("wagtailcore", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {INDEX} ON wagtailcore_page (url_path)",
            reverse_sql=f"DROP INDEX IF EXISTS {INDEX}",
        )
    ]
