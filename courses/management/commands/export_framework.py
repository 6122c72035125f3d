from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from courses.frameworks_io import to_csv, to_json
from courses.models import Framework


class Command(BaseCommand):
    help = "Export a skills framework as JSON or CSV (the formats import_framework reads)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version V` names the framework's version here, not Django's.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser) -> None:
        parser.add_argument("code", help="The framework's code, e.g. RS5142.")
        parser.add_argument("--version", dest="framework_version", help="Default: the newest.")
        parser.add_argument("--format", choices=["json", "csv"], required=True)
        parser.add_argument("--output", help="A file to write; default: standard output.")

    def handle(
        self, *args, code: str, framework_version: str | None, format: str, output, **options
    ) -> None:
        frameworks = Framework.objects.filter(code=code)
        if framework_version:
            framework = frameworks.filter(version=framework_version).first()
        else:
            framework = frameworks.newest_first().first()
        if framework is None:
            raise CommandError(
                f"No framework {code}{' ' + framework_version if framework_version else ''}."
            )
        text = to_json(framework) if format == "json" else to_csv(framework)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {framework.label} to {output}.")
        else:
            self.stdout.write(text, ending="")
