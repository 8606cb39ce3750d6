"""The change log in Chinese sentences: who did what to whom, with names, amounts and reasons.

    rows = event_rows(events)            # a page of events, the people and objects they name loaded at once
    event_sentence(event)                # one event (loads what it names itself)

Every ID number in a sentence is masked (the change log is read by auditors and clerks alike).
One function per (entity, action); anything else reads through `_generic`, with field labels taken
from the models' verbose names and values from their choices.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from yibao.core.idnumber import mask_id_numbers_in

from yibao.core.eventcontext import EventContext, _int, _s, event_context, person_text  # noqa: F401
from yibao.core.eventlabels import (  # noqa: F401  (ACTION_LABELS is read from here too)
    ACTION_LABELS,
    ENTITY_LABELS,
    SKIP_KEYS,
    choice_label,
    field_label,
)


def money(value) -> str:
    """'1234.5' → '1,234.50 元'."""
    try:
        return f"{Decimal(str(value)):,.2f} 元"
    except (InvalidOperation, ValueError, TypeError):
        return f"{value} 元" if value not in (None, "") else ""


def value_text(entity: str, name: str, value, ctx: EventContext | None = None) -> str:
    if value is None or value == "":
        return "无"
    if isinstance(value, bool):
        return "是" if value else "否"
    if name in ("amount", "total", "expected_amount", "refund_later", "totals") and not isinstance(value, (dict, list)):
        return money(value)
    regional = name.endswith("region_code") or name in ("village_code", "township_code", "village", "region",
                                                         "counted_in", "taken_in")
    if regional and isinstance(value, str) and value.isdigit():
        return ctx.region(value) if ctx else str(value)
    if name == "role":
        from yibao.accounts.roles import Role

        return Role(value).label if value in Role.values else str(value)
    if name == "department":
        from yibao.accounts.roles import Department

        return Department(value).label if value in Department.values else str(value)
    if name == "code" and entity in ("resident", "identity"):
        return _identity_name(value)
    if name == "group":
        return _group_name(value)
    if name == "rule" and isinstance(value, str):
        return _rule_label(value, ctx)
    if isinstance(value, list):
        return "、".join(value_text(entity, name, v, ctx) for v in value[:10]) + ("等" if len(value) > 10 else "")
    if isinstance(value, dict):
        return "，".join(f"{field_label(k)} {value_text(entity, k, v, ctx)}" for k, v in value.items()
                        if not isinstance(v, (dict, list)))
    return mask_id_numbers_in(choice_label(entity, name, value))


def _identity_name(code) -> str:
    if not code:
        return "（未知身份）"
    try:
        from yibao.policy.vocabulary import identity_name

        return identity_name(code)
    except Exception:  # an unknown code reads as itself
        return str(code)


def _group_name(code) -> str:
    if not code:
        return "（未知群体）"
    try:
        from yibao.policy.vocabulary import group_name

        return group_name(code)
    except Exception:
        return str(code)


def _rule_labels() -> dict[str, str]:
    """Each rule id with its label, the first policy (by id) that names it winning."""
    from yibao.policy.loader import list_policies

    labels: dict[str, str] = {}
    for policy in list_policies():
        for rule in policy.data.rules:
            labels.setdefault(rule.id, rule.label)
    return labels


def _rule_label(rule_id: str, ctx: EventContext | None = None) -> str:
    """A policy rule's own words (“集中征缴期内缴费”) for its id, as the policies name it.

    The policies are read once for a page of events (kept on its ctx), not once a value."""
    labels = ctx.rule_labels if ctx is not None else None
    if labels is None:
        labels = _rule_labels()
        if ctx is not None:
            ctx.rule_labels = labels
    if rule_id in labels:
        return labels[rule_id]
    return {"input_error": "无法测算"}.get(rule_id, rule_id)


# ------------------------------------------------------------------ who

def actor_text(event, ctx: EventContext) -> str:
    """'村（社区）征收员 王芳', '系统', '命令行（root）'."""
    from yibao.accounts.roles import Role

    name = event.actor_name or "系统"
    for prefix in ("cli:", "命令行:"):
        if name.startswith(prefix):
            return f"命令行（{name[len(prefix):]}）"
    user = ctx.users.get(event.actor_id) if event.actor_id else None
    if user is not None and getattr(user, "role", "") in Role.values and not user.is_superuser:
        return f"{Role(user.role).label} {name}"
    return name


# ------------------------------------------------------------------ what, one function per action

def _changes(event, ctx, keys=None) -> str:
    """'姓名 李四 → 李四娃，联系电话 无 → 138…' for the keys that differ."""
    before, after = event.before or {}, event.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ""
    parts = []
    for key in keys or list(dict.fromkeys([*before, *after])):
        if key in SKIP_KEYS or isinstance(after.get(key), (dict, list)) and key not in ("period",):
            continue
        old, new = before.get(key), after.get(key)
        if key in before and key in after:
            if old != new:
                parts.append(f"{field_label(key, event.entity)} {value_text(event.entity, key, old, ctx)} → "
                             f"{value_text(event.entity, key, new, ctx)}")
        elif key in after:
            parts.append(f"{field_label(key, event.entity)} {value_text(event.entity, key, new, ctx)}")
    return "，".join(parts)


def _year(ctx, event) -> str:
    after = event.after or {}
    year = after.get("benefit_year")
    return f"{year}年度" if year else ""


def _payment(event, ctx):
    a, b = event.after or {}, event.before or {}
    who, amount = ctx.payment_person(event.entity_id), money(a.get("amount"))
    year = f"{a['benefit_year']}年度" if a.get("benefit_year") else ""
    p = ctx.payments.get(_int(event.entity_id))
    if event.action == "booked" and not b:
        channel = f"（{p.get_channel_display()}）" if p else ""
        verb = "补缴差额" if a.get("status") == "topup" else "收款"
        receipt = _receipt_no_of(event)
        return f"为 {who} {verb} {amount}{channel}，{year}" + (f"，开具票据 {receipt}" if receipt else "")
    if event.action in ("booked", "rechecked"):
        state = choice_label("payment", "status", a.get("status"))
        flag = f"（{choice_label('payment', 'flag', a.get('flag'))}）" if a.get("flag") else ""
        return f"重新核对 {who} 的{year}缴费 {amount}：{choice_label('payment', 'status', b.get('status'))} → {state}{flag}"
    if event.action == "refunded":
        return f"将 {who} 的{year}缴费 {amount} 标记为已退费"
    if event.action == "transferred":
        return (f"将 {who} 的{year}缴费 {amount} 由 {ctx.region(b.get('counted_in', ''))} 改为计入 "
                f"{ctx.region(a.get('counted_in', ''))}")
    return None


def _receipt_no_of(event) -> str:
    found = re.search(r"票据号\s*(\S+)", event.reason or "")
    return found.group(1) if found else ""


def _receipt(event, ctx):
    a = event.after or {}
    r = ctx.receipts.get(_int(event.entity_id))
    no = a.get("receipt_no") or (r.receipt_no if r else f"（编号 {event.entity_id}）")
    payer = f"，缴款人 {r.payer_name}" if r and r.payer_name else ""
    names = ctx.receipt_names.get(_int(event.entity_id), [])
    people = f"（{'、'.join(names[:5])}{'等' if len(names) > 5 else ''}）" if names else ""
    if event.action == "issued":
        if a.get("replaces"):
            return f"换开票据 {no}，替换作废的票据 {a['replaces']}，合计 {money(a.get('total'))}{payer}"
        count = f"，{a['lines']} 人{people}" if a.get("lines") else people
        return f"开具票据 {no}，合计 {money(a.get('total'))}{count}{payer}"
    if event.action in ("printed", "reprinted"):
        verb = "补打" if event.action == "reprinted" else "打印"
        return f"{verb}票据 {no}{payer}（第 {a.get('prints', '?')} 次打印）"
    if event.action == "voided":
        then = f"，换开为 {a['replaced_by']}" if a.get("replaced_by") else ""
        return f"作废票据 {no}{payer}{then}"
    return None


def _refund(event, ctx):
    a = event.after or {}
    r = ctx.refunds.get(_int(event.entity_id))
    who = ctx.person(r.resident_id) if r and r.resident_id else ctx.payment_person(a.get("payment"))
    amount = money(a.get("amount") or (r.amount if r else ""))
    reason = f"（{choice_label('refund', 'reason', a.get('reason'))}）" if a.get("reason") else ""
    then = ""
    if a.get("enrollment_action"):
        then = f"，同时{choice_label('refund', 'enrollment_action', a['enrollment_action'])}"
    verbs = {"requested": f"为 {who} 申请退费 {amount}{reason}{then}", "approved": f"同意 {who} 的退费申请 {amount}",
             "rejected": f"驳回 {who} 的退费申请 {amount}", "booked": f"为 {who} 退款 {amount}（已入账）"}
    return verbs.get(event.action)


def _subsidy_refund(event, ctx):
    a = event.after or {}
    s = ctx.subsidy.get(_int(event.entity_id))
    who = ctx.person(s.resident_id) if s else ctx.payment_person(a.get("payment"))
    amount = money(a.get("amount") or (s.amount if s else ""))
    verbs = {"created": f"为 {who} 登记先缴后补 {amount}（日后退补）", "approved": f"审核通过 {who} 的先缴后补 {amount}",
             "paid": f"向 {who} 发放先缴后补 {amount}", "cancelled": f"撤销 {who} 的先缴后补"}
    return verbs.get(event.action)


def _enrollment(event, ctx):
    a, b = event.after or {}, event.before or {}
    e = ctx.enrollments.get(_int(event.entity_id))
    who = ctx.person(e.resident_id) if e else f"参保记录（编号 {event.entity_id}）"
    year = f"{e.benefit_year}年度" if e else ""
    period = ""
    if a.get("benefit_start"):
        period = f"，待遇享受期 {a['benefit_start']} 至 {a.get('benefit_end') or '—'}"
    verbs = {
        "registered": f"为 {who} 登记{year}参保（{choice_label('enrollment', 'kind', a.get('kind'))}）",
        "paid": f"将 {who} 的{year}参保记为已缴费{period}",
        "suspended": f"暂停 {who} 的{year}参保", "terminated": f"终止 {who} 的{year}参保",
        "resumed": f"恢复 {who} 的{year}参保{period}",
        "tier": f"为 {who} 选择{year}第 {_s(a.get('tier'))} 档缴费" + (f"（原第 {b['tier']} 档）" if b.get("tier") else ""),
        "transferred": f"将 {who} 的{year}参保由 {ctx.region(b.get('village_code', ''))} 转到 "
                       f"{ctx.region(a.get('village_code', ''))}",
        "undo": f"撤销 {who} 的{year}参保变更" + (f"：{_changes(event, ctx)}" if _changes(event, ctx) else ""),
    }
    return verbs.get(event.action)


def _policy_title(policy_id) -> str:
    if not policy_id:
        return "（未知政策）"
    try:
        from yibao.policy.loader import load_policy

        return f"《{load_policy(str(policy_id)).data.title}》"
    except Exception:  # a policy no longer installed reads by its id
        return f"（编号 {policy_id}）"


def _campaign(event, ctx):
    a = event.after or {}
    c = ctx.campaigns.get(_int(event.entity_id))
    year = f"{a.get('benefit_year') or (c.benefit_year if c else '')}年度"
    verbs = {
        "opened": f"按政策{_policy_title(a.get('policy_id'))}开启{year}征缴，征缴期 {_s(a.get('collection_start'))} 至 "
                  f"{_s(a.get('collection_end'))}",
        "closed": f"结束{year}征缴", "reopened": f"重新开启{year}征缴",
        "history_created": f"建立{year}历年参保记录（导入上年参保名单）",
        "assessed": f"完成{year}参保核定：{_counts(a)}",
    }
    return verbs.get(event.action)


def _counts(values: dict) -> str:
    from yibao.core.jobs import RESULT_LABELS

    parts = [f"{RESULT_LABELS.get(k) or field_label(k)} {v}" for k, v in values.items()
             if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return "，".join(parts) or "无计数"


def _resident(event, ctx):
    a, b = event.after or {}, event.before or {}
    who = ctx.person(event.entity_id)
    act = event.action
    if act == "register":
        place = f"在 {ctx.region(a['village_code'])} " if a.get("village_code") else ""
        return f"{place}登记参保人 {who}"
    if act == "update":
        return f"修改 {who} 的信息：{_changes(event, ctx)}"
    if act == "import_update":
        return f"按导入的名单更新 {who}：{_changes(event, ctx)}"
    if act == "status":
        return (f"将 {who} 的户籍状态由“{choice_label('resident', 'status', b.get('status'))}”改为"
                f"“{choice_label('resident', 'status', a.get('status'))}”")
    if act == "move":
        return f"将 {who} 由 {ctx.region(b.get('village_code', ''))} 迁至 {ctx.region(a.get('village_code', ''))}"
    if act == "flag":
        from yibao.registry.models import Flag

        kind = Flag.Kind(a["kind"]).label if a.get("kind") in Flag.Kind.values else a.get("kind", "")
        return f"标记 {who}：{kind}" + (f"（{mask_id_numbers_in(a['detail'])}）" if a.get("detail") else "")
    if act == "flag_resolve":
        from yibao.registry.models import Flag

        outcome = Flag.Outcome(a["outcome"]).label if a.get("outcome") in Flag.Outcome.values else "已处理"
        return f"处理 {who} 的重复参保标记：{outcome}"
    if act in ("identity_add", "identity_renew"):
        verb = "续期" if act == "identity_renew" else "登记"
        until = f"，有效期 {a.get('valid_from') or '不限'} 至 {a.get('valid_to') or '长期'}"
        return f"为 {who} {verb}资助身份“{_identity_name(a.get('code'))}”（{value_text('resident', 'department', a.get('department'))}{until}）"
    if act == "identity_end":
        return f"终止 {who} 的资助身份“{_identity_name(a.get('code'))}”（至 {_s(a.get('valid_to'))}）"
    if act == "group_add":
        return f"为 {who} 登记参保群体“{_group_name(a.get('group'))}”"
    if act == "group_remove":
        return f"移除 {who} 的参保群体“{_group_name(b.get('group'))}”"
    if act == "group_import_update":
        return f"名单导入更新 {who} 的参保群体“{_group_name(a.get('group'))}”"
    if act == "group_reassessed":
        return (f"{who} 的参保群体变化后 {_s(a.get('benefit_year'))}年度核定改变：应缴 {_s(b.get('payable'))} → "
                f"{_s(a.get('payable'))} 元，待遇起始日 {_s(b.get('benefit_start'))} → {_s(a.get('benefit_start'))}，待复核")
    if act == "undo":
        changes = _changes(event, ctx)
        return f"撤销对 {who} 的状态变更" + (f"：{changes}" if changes else "")
    return None


def _remind(event, ctx):
    from yibao.progress.models import RemindMark

    if event.action == "undo":
        return f"撤销 {ctx.person(event.entity_id)} 的催缴标记"
    a = event.after or {}
    label = RemindMark.Outcome(event.action).label if event.action in RemindMark.Outcome.values else event.action
    note = f"（{a['note']}）" if a.get("note") else ""
    year = f"{a['benefit_year']}年度" if a.get("benefit_year") else ""
    if event.action == RemindMark.Outcome.REFUSED:
        return f"在{year}催缴名单上记录 {ctx.person(event.entity_id)} 拒缴{note}，仍待催缴"
    return f"在{year}催缴名单上将 {ctx.person(event.entity_id)} 标记为“{label}”{note}"


def _household(event, ctx):
    a = event.after or {}
    h = ctx.households.get(_int(event.entity_id))
    number = a.get("number") or (h.number if h else event.entity_id)
    if event.action == "register":
        head = f"，户主 {ctx.person(a['head'])}" if a.get("head") else ""
        place = f"在 {ctx.region(a['village_code'])} " if a.get("village_code") else ""
        return f"{place}登记家庭户 {number}（{head.lstrip('，')}{'，' if head else ''}{_s(a.get('members'), '?')} 人）"
    if event.action == "set_head":
        return f"将家庭户 {number} 的户主改为 {ctx.person(a.get('head'))}"
    if event.action == "import_update":
        return f"按导入的名单更新家庭户 {number}：{_changes(event, ctx)}"
    if event.action == "undo":
        b = event.before or {}
        place = f"（{ctx.region(b['village_code'])}）" if b.get("village_code") else ""
        return f"撤销新立的家庭户 {_s(b.get('number') or number)}{place}"
    return None


def _identity(event, ctx):
    i = ctx.identities.get(_int(event.entity_id))
    who = ctx.person(i.resident_id) if i else "参保人"
    name = f"“{_identity_name(i.code)}”" if i else ""
    return f"按导入的名单更新 {who} 的资助身份{name}：{_changes(event, ctx)}"


def _employee_record(event, ctx):
    r = ctx.employees.get(_int(event.entity_id))
    who = person_text(r.name, r.id_number) if r else f"职工医保名单（编号 {event.entity_id}）"
    return f"按导入的名单更新 {who} 的职工医保记录：{_changes(event, ctx)}"


def _cash_handover(event, ctx):
    a, b = event.after or {}, event.before or {}
    if event.action == "record":
        period = a.get("period") or ["", ""]
        return (f"登记 {a.get('collector', '')} 的现金交款 {money(a.get('amount'))}（{ctx.region(a.get('village', ''))}，"
                f"期间 {period[0]} 至 {period[-1]}，{a.get('handed_on', '')} 交款，接收人 {a.get('received_by', '')}）")
    if event.action == "void":
        return f"作废一笔现金交款登记（{money(b.get('amount'))}）"
    return None


def _reconciliation_run(event, ctx):
    a = event.after or {}
    tax = f"，税务文件 {a['tax_file']}" if a.get("tax_file") else ""
    counts = a.get("counts") if isinstance(a.get("counts"), dict) else {}
    from yibao.reconciliation.models import Mismatch

    kinds = dict(Mismatch.Kind.choices)
    counts = {kinds.get(k, k): v for k, v in counts.items()}
    return f"运行对账（截止 {a.get('as_of', '')}{tax}）" + (f"：{_counts(counts)}" if counts else "")


def _export(event, ctx):
    a = event.after or {}
    what = (event.reason or "导出").strip()
    where = ""
    code = a.get("region") or a.get("village") or a.get("township")
    if isinstance(code, str) and code.isdigit():
        where = f"（{ctx.region(code)}）"
    rows = f"，共 {a['rows']} 行" if a.get("rows") is not None else ""
    q = f"，查找条件“{mask_id_numbers_in(a['q'])}”" if a.get("q") else ""
    return f"{what}{where}{rows}{q}"


def _targets(event, ctx):
    a = event.after or {}
    code, _, year = str(event.entity_id).partition(":")
    place, year = ctx.region(code), f"{year}年度" if year else ""
    if event.action == "import":
        return (f"导入{place}{year}目标任务表 {a.get('file', '')}（{a.get('rows', 0)} 行，新增 {a.get('created', 0)}，"
                f"更新 {a.get('updated', 0)}）")
    if event.action == "derive":
        return f"{event.reason or '生成各村目标任务'}：{place}{year}，{a.get('villages', 0)} 个村"
    if event.action == "adjust":
        return f"调整 {place} 的{year}目标任务：{_changes(event, ctx)}"
    return None


def _region(event, ctx):
    a, b = event.after or {}, event.before or {}
    if event.action == "import":
        return f"导入行政区划（{ctx.region(event.entity_id)}）：{_counts(a)}"
    if event.action == "import_update":
        return f"将区划 {event.entity_id} 由“{b.get('name', '')}”更名为“{a.get('name', '')}”"
    return None


def _user(event, ctx):
    a = event.after or {}
    u = ctx.users.get(_int(event.entity_id))
    who = f"账号 {u.username}（{u.display_name or u.username}）" if u else f"账号 {event.entity_id}"
    verbs = {
        "create": f"新建{who}：{_changes(event, ctx)}", "update": f"修改{who}：{_changes(event, ctx)}",
        "deactivate": f"停用{who}", "activate": f"启用{who}", "reset_password": f"重置{who}的密码",
        "change_password": "修改本人密码", "update_profile": f"修改本人资料：{_changes(event, ctx)}",
        "unlock": f"解锁{who}", "reset_second_factor": f"重置{who}的手机验证器",
        "enrol_second_factor": "绑定本人手机验证器",
        "lockout": f"{who if u else '账号 ' + str(a.get('username', ''))}连续 {a.get('failures', '?')} 次密码错误，"
                   f"锁定 {a.get('minutes', '?')} 分钟（来自 {a.get('ip', '')}）",
    }
    return verbs.get(event.action)


def _job(event, ctx):
    j = ctx.jobs.get(_int(event.entity_id))
    name = f"后台任务 #{event.entity_id}" + (f"（{j.kind_label}{'：' + j.input_name if j.input_name else ''}）" if j else "")
    verbs = {"interrupted": f"{name}中断：处理进程已退出，未写入数据",
             "interrupted_after_commit": f"{name}在数据提交后中断（数据已写入）",
             "report_regenerated": f"重新生成{name}的报告"}
    return verbs.get(event.action)


def _policy(event, ctx):
    a = event.after or {}
    if event.action == "installed":
        was = f"，原版本 {event.before['version']}" if isinstance(event.before, dict) and event.before.get("version") else ""
        return f"安装政策{_policy_title(event.entity_id)}（版本 {_s(a.get('version'))}{was}，测试用例 {a.get('cases', 0)} 个通过）"
    return None


def _flag(event, ctx):
    if event.action == "undo":
        from yibao.registry.models import Flag

        kind = (event.before or {}).get("kind")
        label = Flag.Kind(kind).label if kind in Flag.Kind.values else "重复参保"
        return f"撤销一条重复参保标记（{label}）"
    return None


def _mismatch(event, ctx):
    a = event.after or {}
    if event.action == "rectify":
        who = f"，{a['person']}" if a.get("person") else ""
        diff = f"，差额 {money(a['difference'])}" if a.get("difference") not in (None, "") else ""
        return f"将对账差异（{_s(a.get('kind'), '差异')}{who}{diff}）标记为已整改"
    return None


WRITERS = {
    "payment": _payment, "receipt": _receipt, "refund": _refund, "subsidy_refund": _subsidy_refund,
    "enrollment": _enrollment, "campaign": _campaign, "resident": _resident, "remind": _remind,
    "household": _household, "identity": _identity, "employee_record": _employee_record,
    "cash_handover": _cash_handover, "reconciliation_run": _reconciliation_run, "export": _export,
    "targets": _targets, "target": _targets, "region": _region, "user": _user, "job": _job, "policy": _policy,
    "flag": _flag, "mismatch": _mismatch,
}


def _generic(event, ctx) -> str:
    """An action without its own sentence still reads as Chinese: the action's name, the object, the changes."""
    thing = ENTITY_LABELS.get(event.entity, "记录")
    changes = _changes(event, ctx)
    label = ACTION_LABELS.get(f"{event.entity}.{event.action}") or f"{thing}变更"
    return f"{label}（{thing} {event.entity_id}）" + (f"：{changes}" if changes else "")


def action_label(event) -> str:
    return ACTION_LABELS.get(f"{event.entity}.{event.action}") or f"{ENTITY_LABELS.get(event.entity, '记录')}变更"


_TIGHT = re.compile(r"） (?=[\u4e00-\u9fff])")  # '张三（…）收款', not '张三（…） 收款'


def event_what(event, ctx: EventContext | None = None) -> str:
    """What was done, without who: '为 张三（…）收款 400.00 元（现金），2025年度，开具票据 …'."""
    ctx = ctx or event_context([event])
    writer = WRITERS.get(event.entity)
    try:
        text = writer(event, ctx) if writer else None
    except Exception:  # an odd old row must not break the log: it reads generically
        text = None
    return _TIGHT.sub("）", mask_id_numbers_in(text or _generic(event, ctx)))


def event_sentence(event, ctx: EventContext | None = None, *, with_time: bool = False) -> str:
    """'2025-03-20 10:12 村（社区）征收员 王芳 为 张三（340321********1234）收款 400.00 元…'."""
    ctx = ctx or event_context([event])
    text = f"{actor_text(event, ctx)} {event_what(event, ctx)}"
    if with_time:
        from django.utils import timezone

        text = f"{timezone.localtime(event.at):%Y-%m-%d %H:%M} {text}"
    return text


def event_rows(events) -> list[dict]:
    """A page of events for a table, the partial core/_event_rows.html and the export."""
    from yibao.accounts.roles import Role

    events = list(events)
    ctx = event_context(events)
    rows = []
    for e in events:
        user = ctx.users.get(e.actor_id) if e.actor_id else None
        role = Role(user.role).label if user is not None and user.role in Role.values else ""
        rows.append({
            "event": e, "at": e.at, "actor": e.actor_name or "系统", "role": role,
            "region": ctx.region(e.county_code) if e.county_code else "", "action": action_label(e),
            "sentence": event_sentence(e, ctx), "what": event_what(e, ctx),
            "reason": mask_id_numbers_in(e.reason or ""), "request_id": e.request_id,
        })
    return rows
