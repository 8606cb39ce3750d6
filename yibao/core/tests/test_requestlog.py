"""One structured log line per request, and the same request id in the event rows it writes."""

import json
import logging

import pytest

from yibao.collection.tests import factories as f
from yibao.core.jobs import RUNNERS, job_run
from yibao.core.models import Event
from yibao.core.requestlog import HEADER, request_id_bound
from yibao.core.services import event_record, job_create

pytestmark = pytest.mark.django_db

FIELDS = {"ts", "request_id", "user", "role", "method", "path", "status", "duration_ms"}


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(record.getMessage()))


@pytest.fixture
def request_log():
    """The lines the yibao.request logger writes (it does not propagate to the root logger)."""
    handler = _Lines()
    logger = logging.getLogger("yibao.request")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_each_request_writes_one_line_with_who_what_and_how_long(client, make_user, request_log):
    user = make_user("xian", role="county_admin", region_code="340321")
    client.force_login(user)
    response = client.get("/events/")
    assert response.status_code == 200
    assert len(request_log) == 1
    line = request_log[0]
    assert set(line) == FIELDS
    assert (line["user"], line["role"], line["method"], line["path"], line["status"]) == (
        "xian", "county_admin", "GET", "/events/", 200)
    assert line["request_id"] == response[HEADER] and len(line["request_id"]) == 32
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0

    client.logout()
    request_log.clear()
    missing = client.post("/api/collection/counter-payments", "{}", content_type="application/json")
    assert len(request_log) == 1
    assert (request_log[0]["user"], request_log[0]["role"], request_log[0]["method"], request_log[0]["status"]) == (
        "", "", "POST", missing.status_code)


def test_a_well_formed_incoming_request_id_is_kept_and_a_bad_one_replaced(client, request_log):
    kept = client.get("/accounts/login/", headers={HEADER: "nginx-5f2c9a7e01"})
    assert kept[HEADER] == "nginx-5f2c9a7e01" and request_log[-1]["request_id"] == "nginx-5f2c9a7e01"
    for bad in ("short", "has space in it", "x" * 65, "inject\"}{\"status\":200"):
        response = client.get("/accounts/login/", headers={HEADER: bad})
        assert response[HEADER] != bad and len(response[HEADER]) == 32
        assert request_log[-1]["request_id"] == response[HEADER]


def test_the_log_line_holds_no_query_string_and_masks_id_numbers_in_the_path(client, request_log):
    client.get("/registry/search/110101199003070011/?q=110101199003070011&name=张三")
    path = request_log[-1]["path"]
    assert "110101199003070011" not in path and "张三" not in path and "?" not in path


def test_a_payment_through_the_api_carries_the_responses_request_id_in_its_events(client, make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    _home, head, spouse, child = f.family(number="A1")
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE))
    before = set(Event.objects.values_list("pk", flat=True))
    response = client.post("/api/collection/counter-payments",
                           json.dumps({"resident_ids": [head.pk, spouse.pk], "channel": "cash"}),
                           content_type="application/json")
    assert response.status_code == 201, response.content
    request_id = response[HEADER]
    written = Event.objects.exclude(pk__in=before)
    assert written.filter(entity="payment").count() >= 2
    assert set(written.values_list("request_id", flat=True)) == {request_id}
    # the complaint's trace: from the id in the log (or the header) to the rows that changed
    first_request = set(written.values_list("pk", flat=True))
    assert set(Event.objects.filter(request_id=request_id).values_list("pk", flat=True)) == first_request

    traced = client.post("/api/collection/counter-payments",
                         json.dumps({"resident_ids": [child.pk], "channel": "cash"}),
                         content_type="application/json", headers={HEADER: "complaint-2024-1008-01"})
    assert traced.status_code == 201 and traced[HEADER] == "complaint-2024-1008-01"
    assert Event.objects.filter(request_id="complaint-2024-1008-01", entity="payment").exists()

    client.force_login(make_user("xian", role="county_admin", region_code="340321"))
    page = client.get("/events/", {"request": request_id})
    assert page.status_code == 200 and page.context["page"].paginator.count == len(first_request)
    assert "complaint-2024-1008-01" not in page.content.decode()


def test_events_outside_a_request_have_no_request_id(db):
    event = event_record(county_code="340321", entity="payment", entity_id="1", action="booked")
    assert event.request_id == ""


def test_a_job_run_by_the_worker_carries_the_request_id_of_the_request_that_started_it(monkeypatch):
    def echo(*, job, progress):
        event_record(county_code="340321", entity="test", entity_id=str(job.pk), action="ran")
        return {}

    monkeypatch.setitem(RUNNERS, "test_echo", echo)
    with request_id_bound("page-request-0001"):  # the page that queued it
        job = job_create(kind="test_echo", county_code="340321")
    assert job.params == {"request_id": "page-request-0001"}
    job_run(job)  # later, in the worker, outside any request
    assert Event.objects.get(entity="test").request_id == "page-request-0001"


def test_a_channel_file_booked_in_bulk_carries_the_request_id_of_its_upload(client, make_user, tmp_path):
    from yibao.collection.tests.test_ingest import line, write_csv

    f.campaign()
    person = f.person(name="接口乙")
    client.force_login(make_user("shui", role="tax_officer", region_code="340321"))
    path = write_csv(tmp_path, [line("API1", person, "400")])
    with open(path, "rb") as fh:
        response = client.post("/api/collection/payment-files", {"file": fh})
    assert response.status_code == 202 and response.json()["status"] == "succeeded", response.content
    booked = Event.objects.filter(entity="payment")
    assert booked.exists() and set(booked.values_list("request_id", flat=True)) == {response[HEADER]}
