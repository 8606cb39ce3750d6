"""A starting file for next year: last year's policy and cases with the year, the dates and the id
moved forward, every moved line marked `# 待复核`, and a `review:` list that `yibao policy check`
reports as warnings until the author has checked each point against the new notice and removed it.

The files are rewritten as text, line by line, so the author's comments and layout survive.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import shutil
from pathlib import Path

from yibao.policy.loader import CASES_SUFFIX, NOTICES_DIR, cases_path_for, load_policy, notice_path
from yibao.policy.schema import POLICY_ID

ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
YEAR_WORD = re.compile(r"(\d{4})(?=年)")
MARK = "# 待复核"


class PolicyNewError(ValueError):
    """The starting file cannot be written; the message is Chinese."""


def shift_date(day: dt.date, years: int) -> dt.date:
    """The same day `years` later; the last day of February stays the last day of February."""
    year = day.year + years
    if day.month == 2 and day.day == calendar.monthrange(day.year, 2)[1]:
        return dt.date(year, 2, calendar.monthrange(year, 2)[1])
    return day.replace(year=year)


def _shift_iso(text: str, years: int) -> str:
    def move(match: re.Match) -> str:
        try:
            day = dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return match[0]
        return shift_date(day, years).isoformat()

    return ISO_DATE.sub(move, text)


def _mark(line: str, note: str) -> str:
    return line if "#" in line else f"{line}  {MARK}：{note}"


def _key(line: str) -> str:
    match = re.match(r"^\s*(?:- )?([a-z_]+):", line)
    return match[1] if match else ""


def _place(policy_id: str) -> str:
    """anhui-huaiyuan-2025 → anhui-huaiyuan"""
    return policy_id.rsplit("-", 1)[0]


def next_year_policy_text(text: str, *, new_id: str, years: int, source_id: str) -> str:
    lines, section = [], ""
    other_place = _place(new_id) != _place(source_id)
    for line in text.splitlines():
        key = _key(line)
        if not line.startswith((" ", "#")) and key:
            section = key
        in_contribution = section == "contribution"
        if section == "checklist" and key == "reason" and YEAR_WORD.search(line):
            # a reason may state facts about other years (“38号自2025年起施行”): kept, not moved
            lines.append(_mark(line, "理由中的年份未顺延，按新通知核对"))
        elif key in ("reason", "refuse_reason", "label") and YEAR_WORD.search(line):
            lines.append(_mark(YEAR_WORD.sub(lambda m: str(int(m[1]) + years), line), "年份已顺延，按新通知改"))
        elif key in ("reference", "note", "reason", "refuse_reason", "label", "age_reference_note", "used_by",
                     "topic"):
            lines.append(line)
        elif re.match(r"^id:", line):
            lines.append(f"id: {new_id}")
        elif re.match(r"^(benefit_year|notice_year):\s*\d{4}", line):
            lines.append(re.sub(r"\d{4}", lambda m: str(int(m[0]) + years), line, count=1))
        elif other_place and re.match(r"^(issued_by:|  (province|city|county|township|region_prefix):)", line):
            lines.append(_mark(line, f"{source_id} 的地区，改为本地"))
        elif re.match(r"^title:", line):
            lines.append(_mark(YEAR_WORD.sub(lambda m: str(int(m[1]) + years), line), "标题中的年份已顺延，按新通知改"))
        elif ISO_DATE.search(line) and not line.lstrip().startswith("#"):
            lines.append(_mark(_shift_iso(line, years), f"由 {source_id} 顺延{years}年"))
        elif in_contribution and key == "amount":
            lines.append(_mark(line, "沿用上年金额，按新通知改"))
        elif line.startswith("# Seed:"):
            lines.append(f"{line}（上年通知，换成新通知）")
        else:
            lines.append(line)
    lines += [
        "",
        f"# 由 yibao policy new 从 {source_id} 生成。逐条核对后从下面删去；全部删去后 policy check 不再提醒。",
        "review:",
        f"  - 待遇年度、征缴期和规则中的日期已从 {source_id} 顺延{years}年（行尾标“{MARK}”），逐一对照新通知核对",
        "  - 个人缴费标准、财政补助、筹资总额沿用上年金额，按新通知改",
        "  - 每条 reference 仍引自上年通知：换成新通知的原文，并把 seed 改为新通知的文件名（放在本文件旁的 notices/ 中）",
        "  - 资助的身份、方式和金额沿用上年，按新通知核对；新通知新增或取消的群体、规则要增删",
        "  - 用例的日期已顺延，期望值须按新通知重新推算（不要照抄系统输出）",
    ]
    if other_place:
        lines.append(f"  - 本文件取自另一地方的政策 {source_id}：地区（locality）、发文单位、标题和文件开头的注释都改为本地；"
                     "它的资助、规则和清单确认未必适用本地，逐条按本地通知重写或删去")
    return "\n".join(lines) + "\n"


def _shift_case(block: list[str], years: int) -> list[str]:
    """One case: paid_on moves by the years; a birth date under two years before it and an event
    date keep their distance in days from it (so 90-day limits hold across 29 February)."""
    text = "\n".join(block)
    paid = re.search(r"paid_on:\s*(\d{4}-\d{2}-\d{2})", text)
    if not paid:
        return [_shift_iso(line, years) for line in block]
    old_paid = dt.date.fromisoformat(paid[1])
    new_paid = shift_date(old_paid, years)

    placed: dict[str, str] = {}

    def move(match: re.Match) -> str:
        day = dt.date.fromisoformat(match[2])
        if match[1] == "event_date" or (match[1] == "birth_date" and (old_paid - day).days < 730):
            placed[match[2]] = (new_paid - (old_paid - day)).isoformat()
            return f"{match[1]}: {placed[match[2]]}"
        return f"{match[1]}: {shift_date(day, years).isoformat()}"

    for line in block:  # place the dates first, so an expected date equal to one follows it
        re.sub(r"(birth_date|event_date):\s*(\d{4}-\d{2}-\d{2})", move, line)

    out = []
    for line in block:
        key = _key(line)
        if line.lstrip().startswith("#"):
            out.append(line)
        elif key == "explanation_contains":
            out.append(_shift_benefit_years(line, years))
        elif key in ("name", "reason_contains") or "reason_contains:" in line:
            shifted = YEAR_WORD.sub(lambda m: str(int(m[1]) + years), line)
            out.append(re.sub(r"(birth_date|event_date):\s*(\d{4}-\d{2}-\d{2})", move, _shift_iso(shifted, 0)))
            out[-1] = _shift_iso_except(out[-1], years, placed)
        else:
            out.append(_shift_iso_except(re.sub(r"(birth_date|event_date):\s*(\d{4}-\d{2}-\d{2})", move, line), years,
                                         placed))
            if "explanation_contains:" in line:
                head, _, tail = out[-1].partition("explanation_contains:")
                out[-1] = head + "explanation_contains:" + _shift_benefit_years(tail, years)
    return out


def _shift_benefit_years(text: str, years: int) -> str:
    """In expected explanations, a benefit year (“2024年度”) moves with the file, as the engine's own sentences
    name it (“同户其他家庭成员已参加2024年度城乡居民医保”); other words stay as they are."""
    return re.sub(r"(\d{4})(?=年度)", lambda y: str(int(y[1]) + years), text)


def _shift_iso_except(line: str, years: int, placed: dict[str, str] | None = None) -> str:
    """Shift the ISO dates of a line except those already placed (birth_date, event_date); a date
    equal to a placed birth or event date moves with it."""
    already = re.compile(r"((?:birth_date|event_date):\s*)(\d{4}-\d{2}-\d{2})")
    keep = {m.start(2) for m in already.finditer(line)}

    def move(match: re.Match) -> str:
        if match.start() in keep:
            return match[0]
        if placed and match[0] in placed:
            return placed[match[0]]
        return _shift_iso(match[0], years)

    return ISO_DATE.sub(move, line)


def next_year_cases_text(text: str, *, new_id: str, years: int) -> str:
    lines: list[str] = []
    block: list[str] = []
    for line in text.splitlines():
        if re.match(r"^policy:", line):
            lines.append(f"policy: {new_id}")
        elif re.match(r"^\s*- name:", line):
            lines += _shift_case(block, years) if block else []
            block = [line]
        elif block:
            block.append(line)
        else:
            lines.append(line)
    lines += _shift_case(block, years) if block else []
    return "\n".join(lines) + "\n"


def policy_new(*, source_id: str, new_id: str, year: int | None = None, folder: str | Path = ".",
               overwrite: bool = False) -> Path:
    """Write <new_id>.yaml and its cases into `folder` from the policy `source_id`."""
    source = load_policy(source_id)
    year = year or source.data.benefit_year + 1
    match = POLICY_ID.match(new_id)
    if not match:
        raise PolicyNewError(f"新政策编号 {new_id} 应为 <省>-<县>[-<乡镇>]-<待遇年度>，拼音小写")
    if int(match[2]) != year:
        raise PolicyNewError(f"新政策编号 {new_id} 的年度应为待遇年度 {year}")
    years = year - source.data.benefit_year
    if years <= 0:
        raise PolicyNewError(f"新的待遇年度 {year} 应晚于 {source_id} 的 {source.data.benefit_year}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{new_id}.yaml"
    if target.exists() and not overwrite:
        raise PolicyNewError(f"{target} 已存在；如要覆盖请加选项 --force")
    source_path = Path(source.path)
    target.write_text(next_year_policy_text(source_path.read_text(encoding="utf-8"), new_id=new_id, years=years,
                                            source_id=source_id), encoding="utf-8")
    cases = cases_path_for(source_path)
    if cases.exists():
        (folder / f"{new_id}{CASES_SUFFIX}").write_text(
            next_year_cases_text(cases.read_text(encoding="utf-8"), new_id=new_id, years=years), encoding="utf-8")
    notice = notice_path(source.data.seed, source_path) if source.data.seed else None
    if notice is not None and notice.parent != NOTICES_DIR:
        (folder / "notices").mkdir(exist_ok=True)
        shutil.copyfile(notice, folder / "notices" / notice.name)
    return target
