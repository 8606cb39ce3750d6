"""/healthz: 200 only when the database answers, the worker beats and the disk has room; otherwise
503 with a JSON reason a monitor can read. No login, and nothing a stranger should learn."""

import time

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.utils import OperationalError

from yibao.core import health
from yibao.core.health import HeartbeatThread, heartbeat_dir, worker_heartbeat_beat

pytestmark = pytest.mark.django_db


@pytest.fixture
def healthy(settings):
    settings.YIBAO_HEALTH_REQUIRE_WORKER = True
    settings.YIBAO_WORKER_HEARTBEAT_MAX_AGE = 60
    settings.YIBAO_HEALTH_MIN_FREE_BYTES = 1
    worker_heartbeat_beat(runner="web1:100")


def _check(client, status):
    response = client.get("/healthz")
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json" and "no-cache" in response["Cache-Control"]
    return response.json()


def test_all_well_is_200_without_login(client, healthy):
    body = _check(client, 200)
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok", "worker": "ok", "disk": "ok"}


def test_a_database_that_does_not_answer_is_503_without_its_error(client, healthy, monkeypatch):
    def refused(*args, **kwargs):
        raise OperationalError('connection to server at "db-secret.internal" (10.0.0.7) refused')

    monkeypatch.setattr(connections["default"], "cursor", refused)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["checks"]["database"]["reason"] == "unreachable"
    assert body["checks"]["database"]["message"] == "数据库无应答"
    assert body["checks"]["worker"]["status"] == "ok"
    assert "db-secret" not in response.content.decode() and "10.0.0.7" not in response.content.decode()


def test_a_worker_without_heartbeat_or_with_an_old_one_is_503(client, healthy, settings):
    for path in heartbeat_dir().glob("*.json"):
        path.unlink()
    body = _check(client, 503)
    assert body["status"] == "fail" and body["checks"]["worker"]["reason"] == "no_heartbeat"
    assert body["checks"]["database"]["status"] == "ok" and body["checks"]["disk"]["status"] == "ok"

    worker_heartbeat_beat(runner="worker:7", now=time.time() - 300)
    body = _check(client, 503)
    assert body["checks"]["worker"]["reason"] == "stale_heartbeat"
    assert 299 <= body["checks"]["worker"]["age_seconds"] <= 305 and body["checks"]["worker"]["max_age_seconds"] == 60

    worker_heartbeat_beat(runner="worker:8")  # a second worker that lives: the freshest beat counts
    assert _check(client, 200)["checks"]["worker"]["age_seconds"] <= 2


def test_a_full_disk_is_503(client, healthy, settings):
    settings.YIBAO_HEALTH_MIN_FREE_BYTES = 10**18
    body = _check(client, 503)
    disk = body["checks"]["disk"]
    assert disk["reason"] == "low_space" and disk["free_bytes"] < disk["min_free_bytes"] == 10**18
    assert "MB" in disk["message"] and str(settings.VAR_DIR) not in str(body)


def test_healthz_reads_only(client, healthy):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


def test_the_heartbeat_thread_beats_while_the_worker_lives_and_stops_with_it(client, healthy):
    for path in heartbeat_dir().glob("*.json"):
        path.unlink()
    beat = HeartbeatThread(interval=0.05)
    beat.start()
    try:
        first = health.worker_heartbeat_latest()
        assert first is not None and _check(client, 200)["checks"]["worker"]["status"] == "ok"
        deadline = time.time() + 5
        while health.worker_heartbeat_latest() == first and time.time() < deadline:
            time.sleep(0.02)
        assert health.worker_heartbeat_latest() > first  # it goes on beating
    finally:
        beat.stop()
    assert not beat.is_alive() and health.worker_heartbeat_latest() is None
    assert _check(client, 503)["checks"]["worker"]["reason"] == "no_heartbeat"


@pytest.mark.django_db(transaction=True)  # the worker loop opens and closes its own transactions
def test_the_yibao_worker_command_beats_for_as_long_as_it_runs(settings, monkeypatch, healthy):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}  # as in service
    for path in heartbeat_dir().glob("*.json"):
        path.unlink()
    beats = []
    real = health.worker_heartbeat_beat
    monkeypatch.setattr(health, "worker_heartbeat_beat", lambda **kw: beats.append(real(**kw)))
    call_command("yibao_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    assert beats and health.worker_heartbeat_latest() is None  # it beat, and a clean stop removed it
