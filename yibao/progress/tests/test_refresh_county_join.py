"""Every query of a county's progress refresh that joins the register names the resident's county: with one
database for a city or province, a join on the resident's id alone lets PostgreSQL read every county's
residents (a hash join over the whole table); see docs/scale.md."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from yibao.progress import services
from yibao.progress.tests import builders as b

JOIN = re.compile(r'JOIN "registry_resident"')


def _refresh_sql(**kwargs) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, **kwargs)
    return [q["sql"] for q in captured.captured_queries]


def test_a_county_refresh_joins_only_the_countys_residents(county):
    joined = [sql for sql in _refresh_sql() if JOIN.search(sql)]
    assert joined  # the counts read the resident's village through the join
    for sql in joined:
        assert f'"registry_resident"."county_code" = \'{b.COUNTY}\'' in sql or \
            f'"registry_resident"."county_code" = {b.COUNTY}' in sql or '"registry_resident"."county_code" = %s' in sql, sql

