"""Data written once for the tests of one module, and gone after it.

For a module whose tests only read an expensive load (the demo set, the reference data): a
module-scoped fixture writes it inside ``module_transaction``, a transaction that stays open
while the module's tests run and is rolled back after the last one::

    @pytest.fixture(scope="module")
    def demo(request, django_db_setup, django_db_blocker):
        with module_transaction(request, django_db_blocker):
            with django_db_blocker.unblock():
                call_command("setup_demo")
            yield
 Each test still runs in
its own savepoint (pytest-django's ``db``), so whatever a test writes is undone after it, and
the next module starts from the database as it was.

A transactional test (``django_db(transaction=True)``, ``transactional_db``, ``live_server``)
cannot run inside that transaction: ``module_transaction`` refuses a module that has one.
"""

import contextlib

import pytest
from django.db import transaction


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
    ):
        return True
    names = set(getattr(item, "fixturenames", ()))
    return bool(names & {"transactional_db", "live_server", "django_db_reset_sequences"})


@contextlib.contextmanager
def module_transaction(request, django_db_blocker):
    """Open a transaction for the rest of the module and roll it back when the block ends.
    The database stays blocked in between: the fixture unblocks it to write its data, and
    each test that asks for ``db`` gets it as usual."""
    module = request.node
    transactional = [
        item.nodeid
        for item in request.session.items
        if item.module is module.obj and _is_transactional(item)
    ]
    if transactional:
        raise pytest.UsageError(
            f"{module.nodeid} keeps data for the module in an open transaction; these "
            f"transactional tests cannot run inside it: {', '.join(transactional)}"
        )
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
