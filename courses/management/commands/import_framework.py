from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from courses.frameworks_io import FrameworkFileError, parse_file
from courses.services import CREATE, KEEP, UPDATE, import_frameworks


class Command(BaseCommand):
    help = "Import skills frameworks from a JSON or CSV file (all or nothing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="A .json or .csv file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change and change nothing."
        )

    def handle(self, *args, file: str, dry_run: bool, **options) -> None:
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        try:
            report = import_frameworks(parse_file(path.name, content), dry_run=dry_run)
        except FrameworkFileError as error:
            for problem in error.problems:
                self.stderr.write(f"{path.name}: {problem}")
            raise CommandError(
                f"{len(error.problems)} problem(s) in {path.name}: nothing was imported."
            ) from None

        for row in report.counts():
            self.stdout.write(
                f"{row['kind']}: {row[CREATE]} to create, {row[UPDATE]} to update, "
                f"{row[KEEP]} not in the file (kept)"
            )
        for change in report.changes:
            fields = f" ({', '.join(change.fields)})" if change.fields else ""
            self.stdout.write(
                f"  {change.action} {change.kind} {change.framework} {change.code}{fields}"
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        elif report.changed:
            self.stdout.write(self.style.SUCCESS("Imported."))
        else:
            self.stdout.write("Already up to date: nothing changed.")
