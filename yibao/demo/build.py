"""Build the demo county through the real import path: write the lists as files, import them as jobs."""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from pathlib import Path

from yibao.core.jobs import job_run
from yibao.demo import people as people_mod
from yibao.demo.county import COUNTY_CODE, COUNTY_NAME, POLICY_ID, TOWNSHIPS, regions

DEMO_ACTOR = "演示数据"
DEMO_PASSWORD = "yibao-demo"

# a different header spelling per list, as real departments send them
DEPARTMENT_FILES = {
    "民政": ("民政局资助参保名单.csv", ["公民身份号码", "姓名", "资助类别", "认定部门", "起始日期", "终止日期"]),
    "乡村振兴": ("乡村振兴局监测与脱贫人口名单.csv", ["身份证号码", "姓名", "人员类别", "认定部门", "起始日期", "终止日期"]),
    "残联": ("残联重度残疾人名单.csv", ["身份证号码", "姓名", "身份类别", "认定部门", "起始日期", "终止日期"]),
    "卫健": ("卫健委特殊人群名单.csv", ["证件号码", "姓名", "身份", "认定部门", "起始日期", "终止日期"]),
    "退役军人事务": ("退役军人事务局优抚对象名单.csv", ["身份证号码", "姓名", "身份类别", "认定部门", "起始日期", "终止日期"]),
}


def _write(path: Path, header: list[str], rows, encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def demo_files(folder: Path, residents: int, seed: int = 2024, *, county_code: str = COUNTY_CODE,
               county_name: str = COUNTY_NAME, townships: tuple[str, ...] = TOWNSHIPS) -> dict:
    """Write a demo county's lists into `folder`; returns {kind: path or {department: path}}."""
    region_rows = regions(seed, county_code, county_name, townships)
    villages = [code for code, _name in region_rows if len(code) == 12]
    people = people_mod.households(residents, villages, seed, home=county_code)
    people_mod.assign_identities(people, seed)
    files = {
        "regions": _write(folder / f"{county_name}行政区划.csv", ["区划代码", "名称"], region_rows),
        "residents": _write(
            folder / f"{county_name}户籍名单.csv",
            ["公民身份号码", "姓名", "性别", "出生日期", "户号", "与户主关系", "村（社区）", "联系电话"],
            (
                (p.id_number, p.name, "男" if p.sex == "M" else "女", p.birth.isoformat(), p.household, p.relation,
                 p.village, p.phone)
                for p in people
            ),
        ),
    }
    lists = defaultdict(list)
    for p in people:
        for department, spelling in p.identities:
            lists[department].append((p.id_number, p.name, spelling, department, "2024-01-01", ""))
    files["identities"] = {}
    for department, (name, header) in DEPARTMENT_FILES.items():
        # 民政 sends GBK, as many county offices still do
        encoding = "gb18030" if department == "民政" else "utf-8-sig"
        files["identities"][department] = _write(folder / name, header, lists[department], encoding)
    files["employees"] = _write(
        folder / "职工医保参保人员名单.csv", ["身份证号码", "姓名", "单位名称", "参保日期"],
        ((n, name, employer, since.isoformat()) for n, name, employer, since in people_mod.employees(people, seed)),
    )
    return files


def import_file(kind: str, path: Path, progress_factory=None, *, actor: str = DEMO_ACTOR, **params):
    """Import one demo file through the real job; returns the finished job, or raises RuntimeError in Chinese."""
    from yibao.imports.services import import_job_create

    job = import_job_create(kind=kind, path=path, file_name=path.name, actor=actor, **params)
    progress = progress_factory(f"导入{path.name}") if progress_factory else None
    if progress is not None:
        with progress:
            job = job_run(job, progress)
    else:
        job = job_run(job)
    if job.status != job.Status.SUCCEEDED:
        raise RuntimeError(f"演示数据导入失败（{path.name}）：{job.message or job.error}")
    return job


def _run(kind: str, path: Path, progress_factory, **params) -> dict:
    return import_file(kind, path, progress_factory, **params).result


def demo_build(*, residents: int = 3000, seed: int = 2024, progress_factory=None, keep_files: Path | None = None,
               county_code: str = COUNTY_CODE, county_name: str = COUNTY_NAME, townships: tuple[str, ...] = TOWNSHIPS,
               policy_id: str = POLICY_ID) -> dict:
    """Regions, the household register, the five departments' lists and a 职工医保 list of a demo county (怀远县)."""
    with tempfile.TemporaryDirectory(prefix="yibao-demo-") as tmp:
        folder = Path(keep_files or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files = demo_files(folder, residents, seed, county_code=county_code, county_name=county_name,
                           townships=townships)
        summary = {"county": county_code, "name": county_name, "policy": policy_id}
        summary["regions"] = _run("regions", files["regions"], progress_factory)
        summary["residents"] = _run("residents", files["residents"], progress_factory, county_code=county_code)
        summary["identities"] = {
            department: _run("identities", path, progress_factory, county_code=county_code, department=department)
            for department, path in files["identities"].items()
        }
        summary["employees"] = _run("employees", files["employees"], progress_factory, county_code=county_code)
    return summary


# ---- demo logins -----------------------------------------------------------------------------


def demo_logins(*, password: str = DEMO_PASSWORD) -> list[dict]:
    """One user per role in the demo county (created or reset, so running it twice is harmless)."""
    from django.db.models import Count

    from yibao.accounts.models import User
    from yibao.accounts.roles import Department, Role
    from yibao.regions.models import Region
    from yibao.registry.models import Resident

    busiest = (
        Resident.objects.filter(county_code=COUNTY_CODE).values("village_code").annotate(n=Count("id")).order_by("-n").first()
    )
    village = busiest["village_code"] if busiest else f"{COUNTY_CODE}100201"
    township = village[:9]
    names = dict(Region.objects.filter(code__in=[COUNTY_CODE, township, village]).values_list("code", "name"))
    plan = [
        ("yibao_admin", Role.COUNTY_ADMIN, COUNTY_CODE, "", "县医保局 王管理"),
        ("shuiwu", Role.TAX_OFFICER, COUNTY_CODE, "", "县税务局 李征收"),
        ("xiangzhen", Role.TOWNSHIP_OFFICER, township, "", f"{names.get(township, '乡镇')} 赵经办"),
        ("cunji", Role.VILLAGE_COLLECTOR, village, "", f"{names.get(village, '村')} 孙征收"),
        ("minzheng", Role.DEPARTMENT_CLERK, COUNTY_CODE, Department.MINZHENG, "县民政局 周报送"),
        ("shenji", Role.AUDITOR, COUNTY_CODE, "", "县审计 吴审计"),
    ]
    from yibao.demo.city import city_logins_plan

    above = [row for row in city_logins_plan() if Region.objects.filter(code=row[2]).exists()]
    plan += above  # the city, its tax bureau, the province and 五河县, once the demo city is loaded
    names.update(Region.objects.filter(code__in=[row[2] for row in above]).values_list("code", "name"))
    logins = []
    for username, role, region, department, display in plan:
        user, _created = User.objects.update_or_create(
            username=username,
            defaults={"role": role, "region_code": region, "department": department, "display_name": display,
                      "is_active": True},
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        logins.append({
            "role": Role(role).label, "username": username, "password": password,
            "region": f"{names.get(region, region)}（{region}）" + (f" · {Department(department).label}" if department else ""),
        })
    return logins
