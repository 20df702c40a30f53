from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from agreements.atop import AtopFailed, import_atop


class Command(BaseCommand):
    help = (
        "Load the ATOP alliances (Alliance Treaty Obligations and Provisions) from the "
        "project's alliance-level and member-level CSV files (e.g. atop5_1a.csv and "
        "atop5_1m.csv), all or nothing, as agreements of type alliance referenced ATOP-<atopid>. "
        "By default only the missing ones are created and existing ones are left alone "
        "(skipped); --update overwrites them from the files. See agreements/atop.py for the "
        "columns read and the rules."
    )

    def add_arguments(self, parser):
        parser.add_argument("alliance_file", type=Path, help="the alliance-level CSV file")
        parser.add_argument("member_file", type=Path, help="the member-level CSV file")
        parser.add_argument(
            "--no-progress", action="store_true", help="do not show the progress bar"
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="overwrite existing alliances (matched on reference ATOP-<atopid>) from the files",
        )

    def handle(
        self,
        *args,
        alliance_file: Path,
        member_file: Path,
        no_progress: bool = False,
        update: bool = False,
        **options,
    ):
        for path in (alliance_file, member_file):
            if not path.is_file():
                raise CommandError(f"{path}: no such file.")

        def progress(total):
            return tqdm(
                total=total,
                unit="alliance",
                desc=alliance_file.name,
                disable=no_progress,
                file=self.stderr,
            )

        try:
            result = import_atop(
                alliance_file, member_file, progress_factory=progress, update=update
            )
        except AtopFailed as failure:
            for message in failure.errors:
                self.stderr.write(message)
            raise CommandError(
                f"{len(failure.errors)} problem(s) in {alliance_file.name} and "
                f"{member_file.name}; nothing was written."
            ) from failure
        counts = result.counts
        if update:
            summary = (
                f"{counts['created']} created, {counts['updated']} updated, "
                f"{counts['unchanged']} unchanged"
            )
        else:
            summary = (
                f"{counts['created']} created, {counts['skipped']} skipped (already in the "
                "registry, left as they are; --update overwrites them)"
            )
        summary += f", {counts['left out']} left out (fewer than two members with an ISO code)."
        if result.omitted:
            names = ", ".join(
                f"{cow} ({name})" if name else str(cow)
                for cow, name in sorted(result.omitted.items())
            )
            summary += f" Members without an ISO 3166 code, not listed as parties: {names}."
        self.stdout.write(self.style.SUCCESS(f"{alliance_file.name}: {summary}"))
