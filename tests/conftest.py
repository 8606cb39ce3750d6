"""Fixtures of the cross-app tests (scope matrix, page scan, schemathesis)."""

import pytest
from django.db import transaction


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Users of every role and four villages with households (the scope matrix's world), built once per module
    inside a transaction that is rolled back at the end."""
    from yibao.accounts.tests.scope_support import build_world

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
