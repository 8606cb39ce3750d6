"""Chinese messages for request validation errors, naming the field (every API operation)."""

FIELD_NAMES: dict[str, str] = {}

_MESSAGES = {
    "missing": "缺少必填字段",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式应为 YYYY-MM-DDTHH:MM:SS",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "decimal_parsing": "应为数字",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "json_invalid": "请求体不是合法的 JSON",
    "extra_forbidden": "不认识的字段",
    "string_too_long": "文字过长",
    "too_long": "条目过多",
    "less_than": "数值过大",
    "greater_than": "数值过小",
}


def field_label(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "form")]
    name = ".".join(parts) or "请求"
    return f"{FIELD_NAMES[name]}（{name}）" if name in FIELD_NAMES else name


def describe_errors(errors: list[dict]) -> list[dict]:
    out = []
    for error in errors:
        loc = error.get("loc", ())
        kind = error.get("type", "")
        if kind == "value_error":  # our own validators (yibao.core.inputs) already speak Chinese
            message = str(error.get("ctx", {}).get("error", "")) or error.get("msg", "取值无效")
        elif kind in ("string_too_long", "too_long") and error.get("ctx", {}).get("max_length") is not None:
            message = f"{_MESSAGES[kind]}（最多 {error['ctx']['max_length']}）"
        else:
            message = _MESSAGES.get(kind, error.get("msg", "取值无效"))
        out.append({"field": ".".join(str(p) for p in loc if p not in ("body", "payload")), "message": f"{field_label(loc)}：{message}"})
    return out
