"""The 核定 job: counts in the result, progress to the end, failures in Chinese."""

import datetime as dt

import pytest

from yibao.core.jobs import job_run
from yibao.core.progress import job_progress_path
from yibao.enrollment.models import Assessment
from yibao.enrollment.tasks import assessment_job_create
from yibao.enrollment.tests import factories as f

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self):
        self.total = self.done = 0
        self.messages = []

    def start(self, total, message=""):
        self.total, self.done = total, 0
        self.messages.append(message)

    def advance(self, n=1):
        self.done += n

    def step(self, message):
        self.messages.append(message)


def test_the_job_assesses_and_reports_its_counts():
    campaign = f.campaign()
    f.resident(identities=["entitled_group"])
    f.resident(name="乙")
    job = assessment_job_create(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    bar = Recorder()
    job = job_run(job, bar)
    assert job.status == "succeeded", job.error
    assert job.result["assessed"] == 2 and job.result["payable_total"] == "800.00"
    assert job.result["refund_later_total"] == "400.00" and job.result["assessed_on"] == "2024-10-08"
    assert bar.done == bar.total == 2 and any("测算" in m for m in bar.messages)
    assert job.total == 2 and not job_progress_path(job.pk).exists()
    assert Assessment.objects.count() == 2


def test_the_job_fails_with_the_reason_for_a_closed_campaign():
    campaign = f.campaign()
    campaign.status = "closed"
    campaign.save()
    job = job_run(assessment_job_create(campaign=campaign, actor="测试"))
    assert job.status == "failed" and "已结束" in job.message


def test_the_job_runs_as_its_creator(make_user):
    campaign = f.campaign()
    collector = make_user("c", role="village_collector", region_code="340321100001")
    job = job_run(assessment_job_create(campaign=campaign, actor=collector))
    assert job.status == "failed" and "无权" in job.message and not Assessment.objects.exists()
