from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from agreements.importers import ImportFailed, import_file


class Command(BaseCommand):
    help = (
        "Load agreements from a CSV or JSON Lines file, all or nothing. Rows match existing "
        "agreements on their reference, so loading the same file twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a .csv or .jsonl file")
        parser.add_argument(
            "--no-progress", action="store_true", help="do not show the progress bar"
        )

    def handle(self, *args, file: Path, no_progress: bool, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file.")

        def progress(total):
            return tqdm(
                total=total, unit="row", desc=file.name, disable=no_progress, file=self.stderr
            )

        try:
            result = import_file(file, progress_factory=progress)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        except ImportFailed as failure:
            for number, message in failure.result.errors:
                self.stderr.write(f"{file.name}, line {number}: {message}")
            raise CommandError(
                f"{len(failure.result.errors)} bad row(s) in {file.name}; nothing was written."
            ) from failure
        counts = result.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"{file.name}: {counts['created']} created, {counts['updated']} updated, "
                f"{counts['unchanged']} unchanged."
            )
        )
