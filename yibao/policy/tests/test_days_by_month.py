"""A window whose days of the month differ by month (“9-11月1-25日，12月1-28日”): the decision, the
assessment date, the pace of the progress page, the policy's summary and the errors of a wrong file."""

import datetime as dt
import shutil

import pytest

from yibao.enrollment.assessment import default_assessment_date
from yibao.policy.engine import Person, quote
from yibao.policy.loader import PolicyFileError, load_policy_file
from yibao.policy.selectors import policy_summary
from yibao.policy.tests.test_errors import line_with, only_issue
from yibao.policy.tests.test_new_constructs import FIXTURES, SOURCE
from yibao.progress.pace import PaceWindow

MONTHS = '''    days_by_month:
      - {months: [9, 10, 11], first: 1, last: 25}
      - {months: [12], first: 1, last: 31}
'''


@pytest.fixture(scope="module")
def shiyan():
    return load_policy_file(SOURCE)


def test_each_month_takes_its_own_days(shiyan):
    window = shiyan.data.collection.main_window
    assert window.open_on(dt.date(2025, 11, 25)) and not window.open_on(dt.date(2025, 11, 26))
    assert window.open_on(dt.date(2025, 12, 31))
    assert not window.open_on(dt.date(2026, 1, 5))  # after the window, whatever the day


def test_a_closed_day_is_refused_naming_its_months_days(shiyan):
    person = Person(birth_date=dt.date(1980, 5, 5))
    refused = quote(shiyan, person, dt.date(2025, 10, 28))
    assert not refused.accepted
    assert "征缴期内10月1日至25日办理缴费，10月28日不受理" in refused.reason
    assert quote(shiyan, person, dt.date(2025, 12, 28)).accepted


def test_the_summary_says_each_months_days(shiyan):
    assert policy_summary(shiyan)["days_of_month"] == "9月、10月、11月每月1日至25日，12月1日至31日"


def test_the_assessment_date_moves_off_a_closed_day(shiyan):
    day = default_assessment_date(policy=shiyan, start=dt.date(2025, 9, 1), end=dt.date(2025, 12, 31),
                                  today=dt.date(2025, 11, 27))
    assert day == dt.date(2025, 12, 1)


def test_the_pace_counts_only_open_days():
    window = PaceWindow(start=dt.date(2025, 9, 1), deadline=dt.date(2025, 12, 31),
                        by_month=((9, 1, 25), (10, 1, 25), (11, 1, 25), (12, 1, 31)))
    assert window.open_days() == 25 * 3 + 31
    assert not window.open_on(dt.date(2025, 9, 30)) and window.open_on(dt.date(2025, 12, 30))


def test_the_progress_pace_reads_the_months_from_the_policy(shiyan, monkeypatch):
    from yibao.progress import selectors

    monkeypatch.setattr(selectors, "policy_for", lambda *args: shiyan)
    monkeypatch.setattr(selectors, "campaign_for", lambda *args: None)
    pace = selectors.pace_window("439901", 2026)
    assert pace.by_month[-1] == (12, 1, 31) and pace.open_days() == 25 * 3 + 31


@pytest.mark.parametrize("old, new, message", [
    ("last: 31}\n", "last: 31}\n    days_of_month: {first: 1, last: 25}\n", "“每月缴费日”和“分月缴费日”只能写一个"),
    ("months: [12]", "months: [11, 12]", "11月在“分月缴费日”中写了两次"),
    ("      - {months: [12], first: 1, last: 31}\n", "", "征缴期包括12月，“分月缴费日”没有写它的缴费日"),
    ("first: 1, last: 31", "first: 28, last: 3", "每月缴费日的首日 28 晚于末日 3"),
])
def test_a_wrong_days_by_month_is_named_in_chinese(tmp_path, old, new, message):
    error, text = broken_shiyan(tmp_path, old, new)
    assert message in only_issue(error).message


def test_a_month_that_is_not_a_month(tmp_path):
    error, text = broken_shiyan(tmp_path, "months: [12]", "months: [13]")
    issue = only_issue(error)
    assert "月份只能是1至12，13不是月份" in issue.message
    assert issue.line == line_with(text, "months: [13]")
    assert issue.path.startswith("“征缴”的“集中征缴期”的第2项分月缴费日的“月份”")


def broken_shiyan(tmp_path, old, new):
    notices = tmp_path / "notices"
    shutil.copytree(FIXTURES / "notices", notices)
    text = SOURCE.read_text(encoding="utf-8")
    assert old in text and MONTHS in text
    text = text.replace(old, new, 1)
    path = tmp_path / SOURCE.name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyFileError) as caught:
        load_policy_file(path)
    return caught.value, text


def test_the_diff_says_which_months_days_changed(shiyan, tmp_path):
    from yibao.policy.diff import policy_diff

    shutil.copytree(FIXTURES / "notices", tmp_path / "notices")
    text = SOURCE.read_text(encoding="utf-8").replace("- {months: [12], first: 1, last: 31}",
                                                       "- {months: [12], first: 1, last: 28}")
    (tmp_path / SOURCE.name).write_text(text, encoding="utf-8")
    changes = policy_diff(shiyan, load_policy_file(tmp_path / SOURCE.name))
    assert [c.text for c in changes] == [
        "集中征缴期的分月缴费日：9月、10月、11月1日至25日；12月1日至31日 → 9月、10月、11月1日至25日；12月1日至28日"]
