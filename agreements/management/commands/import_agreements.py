from agreements.import_command import ImportCommand
from agreements.importers import import_file


class Command(ImportCommand):
    help = (
        "Load agreements from a CSV or JSON Lines file, all or nothing. Rows match existing "
        "agreements on their reference: by default only the missing ones are created and every "
        "existing agreement is left alone (skipped); --update overwrites them from the file."
    )
    records = "agreements"
    key = "reference"
    file_help = "a .csv or .jsonl file"

    def import_file(self, path, *, progress_factory, update):
        return import_file(path, progress_factory=progress_factory, update=update)
