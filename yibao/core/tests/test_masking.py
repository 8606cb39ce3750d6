"""ID numbers leave the database masked unless role and region both allow the whole number."""

import datetime as dt

import pytest

from yibao.accounts.scope import Scope
from yibao.core.idnumber import check_character, mask_id_numbers_deep, mask_id_numbers_in
from yibao.core.models import Event
from yibao.core.selectors import event_shown
from yibao.core.services import event_record


def make_id(area="421223", birth=dt.date(1980, 5, 17), seq="123"):
    body = f"{area}{birth:%Y%m%d}{seq}"
    return body + check_character(body)


NUMBER = make_id()


def test_numbers_inside_text_are_masked_and_other_digits_kept():
    text = f"查询 {NUMBER}，旧号 421223800517123，金额 1234567 元，流水 12345678901234567890"
    masked = mask_id_numbers_in(text)
    assert NUMBER not in masked and f"421223********{NUMBER[-4:]}" in masked
    assert "421223*****7123" in masked
    assert "1234567 元" in masked and "12345678901234567890" in masked  # not ID numbers


def test_deep_masking_reaches_nested_values_but_not_keys():
    value = {"q": NUMBER, "rows": 3, "list": [NUMBER, {"x": f"号{NUMBER}"}]}
    masked = mask_id_numbers_deep(value)
    assert NUMBER not in str(masked) and masked["rows"] == 3 and set(masked) == {"q", "rows", "list"}


@pytest.mark.django_db
def test_export_search_terms_are_stored_masked():
    event_record(county_code="421223", entity="export", entity_id="residents", action="export",
                 after={"rows": 1, "q": NUMBER}, reason=f"导出 {NUMBER}")
    stored = Event.objects.get(entity="export")
    assert NUMBER not in str(stored.after) and NUMBER not in stored.reason
    assert stored.after["q"].endswith(NUMBER[-4:])


@pytest.mark.django_db
def test_other_events_keep_the_number_and_only_full_id_roles_read_it():
    event_record(county_code="421223", entity="resident", entity_id="1", action="update", before={"id_number": NUMBER})
    auditor = Scope(role="auditor", region_code="421223")
    admin = Scope(role="county_admin", region_code="421223")
    assert event_shown(Event.objects.get(), scope=admin).before["id_number"] == NUMBER
    assert NUMBER not in str(event_shown(Event.objects.get(), scope=auditor).before)


def test_show_id_needs_role_and_region():
    township = Scope(role="township_officer", region_code="421223200")
    assert township.show_id(NUMBER) == NUMBER
    assert township.show_id(NUMBER, "421223200201") == NUMBER
    assert township.show_id(NUMBER, "421223100201") != NUMBER
    assert Scope(role="auditor", region_code="421223").show_id(NUMBER, "421223200201") != NUMBER


@pytest.mark.django_db
def test_a_township_auditor_reads_only_its_own_events_and_no_county_job():
    from yibao.accounts.models import User
    from yibao.core.models import Job
    from yibao.core.selectors import event_list, job_list

    auditor = User.objects.create_user(username="aud9", password="pass-1234", role="auditor", region_code="421223200")
    event_record(county_code="421223", entity="payment", entity_id="1", action="booked", reason="别村的缴费")
    mine = event_record(county_code="421223", entity="export", entity_id="x", action="export", actor=auditor)
    Job.objects.create(kind="ingest_payments", county_code="421223")
    township = Scope(role="auditor", region_code="421223200", user_id=auditor.pk)
    county = Scope(role="auditor", region_code="421223", user_id=auditor.pk)
    assert list(event_list(scope=township)) == [mine]
    assert event_list(scope=county).count() == 2
    assert not job_list(scope=township).exists() and job_list(scope=county).count() == 1
    assert not job_list(scope=Scope(role="village_collector", region_code="421223200201")).exists()


@pytest.mark.django_db
def test_an_import_jobs_report_link_is_offered_only_to_who_may_download_it(client, tmp_path):
    from yibao.accounts.models import User
    from yibao.core.models import Job

    report = tmp_path / "r.xlsx"
    report.write_bytes(b"PK")
    job = Job.objects.create(kind="import_residents", county_code="421223", status=Job.Status.FAILED,
                             params={"kind": "residents"}, report_path=str(report),
                             message=f"第2行身份证号码 {NUMBER} 重复")
    for role, full in (("county_admin", True), ("auditor", False)):
        client.force_login(User.objects.create_user(username=role, password="pass-1234", role=role, region_code="421223"))
        body = client.get(f"/api/imports/jobs/{job.pk}").json()
        assert (body["report_url"] is not None) == full
        assert (NUMBER in body["error"]) == full and body["error"].endswith("重复")
        assert client.get(f"/jobs/{job.pk}/report").status_code == (200 if full else 403)
