# Fixtures shared by the regions, accounts and registry tests.
from yibao.registry.tests.fixtures import admin, collector, regions, staff  # noqa: F401
