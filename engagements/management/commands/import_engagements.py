from agreements.import_command import ImportCommand
from engagements.importers import import_file


class Command(ImportCommand):
    help = (
        "Load engagements from a JSON Lines file (one engagement a line, in the API's create "
        "shape; agreements may also be named by reference, provisions by agreement and "
        "category), all or nothing. Rows match existing engagements on their title and first "
        "day (starts_on): by default only the missing ones are created and every existing "
        "engagement is left alone (skipped); --update overwrites them from the file."
    )
    records = "engagements"
    key = "title and starts_on"
    file_help = "a .jsonl file"

    def import_file(self, path, *, progress_factory, update):
        return import_file(path, progress_factory=progress_factory, update=update)
