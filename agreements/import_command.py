"""What ``import_agreements`` and ``import_engagements`` share: the file argument, the
progress bar (tqdm, on stderr), ``--update``, every bad line reported as ``FILE, line N:
what is wrong`` with nothing written, and the summary of what was done."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from .importers import ImportFailed


class ImportCommand(BaseCommand):
    """Set ``records`` (plural noun), ``key`` (what rows match on), ``file_help`` and
    ``import_file`` (``(path, *, progress_factory, update) -> ImportResult``)."""

    records = "records"
    key = "key"
    file_help = "a .jsonl file"

    def import_file(self, path: Path, *, progress_factory, update: bool):
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=self.file_help)
        parser.add_argument(
            "--no-progress", action="store_true", help="do not show the progress bar"
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help=f"overwrite existing {self.records} (matched on {self.key}) with the file's rows",
        )

    def handle(self, *args, file: Path, no_progress: bool, update: bool = False, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file.")

        def progress(total):
            return tqdm(
                total=total, unit="row", desc=file.name, disable=no_progress, file=self.stderr
            )

        try:
            result = self.import_file(file, progress_factory=progress, update=update)
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
