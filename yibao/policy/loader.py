"""Finding and loading policy files: yibao/policy/rules/<policy-id>.yaml, plus any folder in
YIBAO_POLICY_DIRS (os.pathsep-separated), and var/policies where `yibao policy install` puts a
county's next-year file after checking it."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from yibao.policy.engine import Policy
from yibao.policy.errors import Issue, compose, format_issues, load_yaml, issues_from, line_of, yaml_error_issue
from yibao.policy.schema import PolicyFile, normalize_text

BUILTIN_DIR = Path(__file__).resolve().parent / "rules"
NOTICES_DIR = Path(__file__).resolve().parent / "notices"
NATIONAL_TEXT = NOTICES_DIR / "national.txt"
CASES_SUFFIX = ".cases.yaml"


class PolicyFileError(ValueError):
    """A policy file that cannot be read or does not validate; the message is Chinese, and
    `issues` holds each finding with its YAML line (errors.Issue)."""

    def __init__(self, message: str, issues: list[Issue] | None = None):
        super().__init__(message)
        self.issues = issues or []


class PolicyNotFound(LookupError):
    pass


def installed_dir() -> Path:
    """Where `yibao policy install` puts a county's own files: var/policies of the deployment (YIBAO_VAR_DIR,
    else the settings' VAR_DIR, which tests point at a temporary folder, else var/ beside the code)."""
    var = os.environ.get("YIBAO_VAR_DIR")
    if not var:
        try:
            from django.conf import settings

            var = str(settings.VAR_DIR) if settings.configured else ""
        except (ImportError, AttributeError):
            var = ""
    return Path(var or Path(__file__).resolve().parents[2] / "var") / "policies"


def policy_dirs() -> list[Path]:
    dirs = [BUILTIN_DIR]
    for extra in os.environ.get("YIBAO_POLICY_DIRS", "").split(os.pathsep):
        if extra:
            dirs.append(Path(extra))
    dirs.append(installed_dir())
    return dirs


def notice_path(seed: str, policy_path: Path) -> Path | None:
    """The notice a policy file quotes: `seed` in notices/ beside the file, or among the built-in notices."""
    name = Path(seed).name
    for folder in (policy_path.parent / "notices", policy_path.parent, NOTICES_DIR):
        candidate = folder / name
        if name and candidate.is_file():
            return candidate
    return None


def source_texts(document: dict, path: Path, node=None) -> dict[str, str]:
    """The texts that references are checked against (see schema.Cited)."""
    seed = document.get("seed")
    if not isinstance(seed, str) or not seed.strip():
        issue = Issue(line_of(node, ("seed",)), "“通知原文文件名”（seed）",
                      "须写明通知原文文件名，以核对每条引用（放在政策文件旁的 notices/ 目录中）")
        raise PolicyFileError(f"政策文件 {path.name} 校验未通过：\n  {issue}", [issue])
    found = notice_path(seed, path)
    if found is None:
        issue = Issue(line_of(node, ("seed",)), "“通知原文文件名”（seed）",
                      f"通知原文 {seed} 未找到：请放在政策文件旁的 notices/ 目录中")
        raise PolicyFileError(f"政策文件 {path.name} 校验未通过：\n  {issue}", [issue])
    return {
        "notice": normalize_text(found.read_text(encoding="utf-8")),
        "national": normalize_text(NATIONAL_TEXT.read_text(encoding="utf-8")),
    }


def load_policy_file(path: str | Path) -> Policy:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyFileError(f"无法读取政策文件 {path}：{exc.strerror}") from None
    try:
        document = load_yaml(raw)
    except yaml.YAMLError as exc:
        issue = yaml_error_issue(exc)
        raise PolicyFileError(f"政策文件 {path.name} 不是合法的 YAML：\n  {issue}", [issue]) from None
    if not isinstance(document, dict):
        issue = Issue(1, "", "文件内容应为键值对（每行“键: 值”）")
        raise PolicyFileError(f"政策文件 {path.name} 的内容应为一个映射（键: 值）", [issue])
    node = compose(raw)
    texts = source_texts(document, path, node)
    try:
        data = PolicyFile.model_validate(document, context=texts)
    except ValidationError as exc:
        issues = issues_from(exc, PolicyFile, node)
        raise PolicyFileError(f"政策文件 {path.name} 校验未通过：\n{format_issues(issues)}", issues) from None
    if path.name.endswith(".yaml") and path.stem != data.id:
        issue = Issue(line_of(node, ("id",)), "“编号”（id）", f"文件名 {path.name} 应与政策编号一致：{data.id}.yaml")
        raise PolicyFileError(f"政策文件名 {path.name} 应与政策编号一致：{data.id}.yaml", [issue])
    return Policy(data=data, version=hashlib.sha256(raw).hexdigest()[:16], path=str(path))


def _policy_paths() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in policy_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            if path.name.endswith(CASES_SUFFIX):
                continue
            found.setdefault(path.stem, path)
    return found


@lru_cache(maxsize=64)
def _load_cached(path: str, mtime_ns: int) -> Policy:
    return load_policy_file(path)


def load_policy(policy_id: str) -> Policy:
    path = _policy_paths().get(policy_id)
    if path is None:
        known = "、".join(sorted(_policy_paths())) or "（无）"
        raise PolicyNotFound(f"未找到政策 {policy_id}。已有政策：{known}")
    return _load_cached(str(path), path.stat().st_mtime_ns)


def list_policies() -> list[Policy]:
    return [load_policy(policy_id) for policy_id in sorted(_policy_paths())]


def cases_path_for(policy_path: str | Path) -> Path:
    path = Path(policy_path)
    return path.with_name(path.stem + CASES_SUFFIX)


def policies_for_region(region_code: str) -> list[Policy]:
    """Policies whose locality covers a county/township/village code, newest benefit year first."""
    matching = [p for p in list_policies() if region_code.startswith(p.data.locality.region_prefix)]
    return sorted(matching, key=lambda p: p.data.benefit_year, reverse=True)
