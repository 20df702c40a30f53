from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from agreements.importers import ImportFailed, import_file


class Command(BaseCommand):
    help = (
        "Load agreements from a CSV or JSON Lines file, all or nothing. Rows match existing "
        "agreements on their reference: by default only the missing ones are created and every "
        "existing agreement is left alone (skipped); --update overwrites them from the file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a .csv or .jsonl file")
        parser.add_argument(
            "--no-progress", action="store_true", help="do not show the progress bar"
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="overwrite existing agreements (matched on reference) with the file's rows",
        )

    def handle(self, *args, file: Path, no_progress: bool, update: bool = False, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file.")

        def progress(total):
            return tqdm(
                total=total, unit="row", desc=file.name, disable=no_progress, file=self.stderr
            )

        try:
            result = import_file(file, progress_factory=progress, update=update)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        except ImportFailed as failure:
            for number, message in failure.result.errors:
                self.stderr.write(f"{file.name}, line {number}: {message}")
            raise CommandError(
                f"{len(failure.result.errors)} bad row(s) in {file.name}; nothing was written."
            ) from failure
        counts = result.counts
        if update:
            summary = (
                f"{counts['created']} created, {counts['updated']} updated, "
                f"{counts['unchanged']} unchanged."
            )
        else:
            summary = (
                f"{counts['created']} created, {counts['skipped']} skipped (already in the "
                "registry, left as they are; --update overwrites them)."
            )
        self.stdout.write(self.style.SUCCESS(f"{file.name}: {summary}"))
