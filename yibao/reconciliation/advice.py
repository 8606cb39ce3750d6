"""Who must fix each mismatch and what to do, in Chinese, computed over the whole frame at once."""

from __future__ import annotations

import polars as pl

from yibao.collection.models import Payment

CHANNEL_LABELS = dict(Payment.Channel.choices)


def yuan(expr: pl.Expr) -> pl.Expr:
    """Cents as '1,234.50元'-style text without the thousands separator: '1234.50元'."""
    cents = expr.fill_null(0)
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    value = cents.abs()
    return pl.format("{}{}.{}元", sign, value // 100, (value % 100).cast(pl.String).str.pad_start(2, "0"))


def _text(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).fill_null("")


def describe(df: pl.DataFrame, township_names: dict[str, str]) -> pl.DataFrame:
    """Add responsible, responsible_name, detail and action.

    Expects the enriched mismatch frame: kind, reason, source (of the payment), channel, person_known,
    collector_name, township_code, tax_row, external_id, receipt_no, tax_cents, yibao_cents, paid_on,
    period_start, period_end, hint.
    """
    kind, reason = pl.col("kind"), pl.col("reason")
    counter = pl.col("source") == "counter"
    has_collector = pl.col("collector_name").fill_null("") != ""
    diff = pl.col("yibao_cents").fill_null(0) - pl.col("tax_cents").fill_null(0)
    channel = pl.col("channel").replace_strict(CHANNEL_LABELS, default=pl.col("channel"), return_dtype=pl.String)
    day = _text(pl.col("paid_on").dt.strftime("%Y-%m-%d"))
    start, end = (_text(pl.col(c).dt.strftime("%Y-%m-%d")) for c in ("period_start", "period_end"))
    ext = _text(pl.col("external_id"))
    receipt = _text(pl.col("receipt_no"))
    tax, ours, gap = yuan(pl.col("tax_cents")), yuan(pl.col("yibao_cents")), yuan(diff.abs())

    responsible = (
        pl.when(kind == "paid_not_booked")
        .then(pl.when(pl.col("person_known") & (pl.col("channel") == "cash")).then(pl.lit("township")).otherwise(pl.lit("yibao")))
        .when(kind.is_in(["booked_not_paid", "amount_differs", "person_differs"]))
        .then(pl.when(counter).then(pl.when(has_collector).then(pl.lit("collector")).otherwise(pl.lit("township")))
              .otherwise(pl.lit("tax")))
        .when(kind.is_in(["receipt_without_payment", "payment_without_receipt", "cash_short"]))
        .then(pl.when(has_collector).then(pl.lit("collector")).otherwise(pl.lit("township")))
        .otherwise(pl.lit("township"))
    )
    df = df.with_columns(responsible.alias("responsible"))
    town = pl.col("township_code").fill_null("").replace_strict(township_names, default="", return_dtype=pl.String)
    who = pl.col("responsible")
    responsible_name = (
        pl.when(who == "tax").then(pl.lit("税务"))
        .when(who == "yibao").then(pl.lit("医保经办"))
        .when(who == "collector").then(pl.format("村征收员 {}", pl.col("collector_name")))
        .otherwise(pl.when(town != "").then(pl.format("乡镇（{}）", town)).otherwise(pl.lit("乡镇")))
    )

    detail = (
        pl.when(kind == "paid_not_booked").then(pl.format(
            "税务有缴费记录（第{}行，{}，{}，{}），医保没有对应的入账{}",
            _text(pl.col("tax_row")), tax, channel.fill_null("渠道不详"), day,
            pl.when(pl.col("person_known")).then(pl.lit("")).otherwise(pl.lit("；本县户籍中查无此身份证号码")),
        ))
        .when(kind == "booked_not_paid").then(pl.format(
            "医保已入账（{}，{}，流水号 {}），税务缴费记录中没有这笔缴费{}", ours, day, ext, _text(pl.col("hint")),
        ))
        .when(kind == "amount_differs").then(pl.format(
            "税务 {}，医保入账 {}，相差 {}（{}）", tax, ours, gap,
            pl.when(reason == "same_id").then(pl.format("流水号 {}", ext)).otherwise(pl.lit("按身份证号码和年度配对")),
        ))
        .when(kind == "person_differs").then(pl.format(
            "同一缴费流水号 {}，税务与医保记录的缴费人身份证号码不同（金额：税务 {}，医保 {}）", ext, tax, ours,
        ))
        .when((kind == "receipt_without_payment") & (reason == "no_lines")).then(pl.format(
            "票据 {} 票面 {}，但没有任何缴费明细", receipt, tax))
        .when((kind == "receipt_without_payment") & (reason == "missing_payment")).then(pl.format(
            "票据 {} 的一行明细（{}）对应的缴费记录不存在", receipt, tax))
        .when((kind == "receipt_without_payment") & (reason == "refunded")).then(pl.format(
            "票据 {} 所含缴费（{}）已退费，票据仍然有效", receipt, ours))
        .when((kind == "receipt_without_payment") & (reason == "total_over")).then(pl.format(
            "票据 {} 票面 {}，所含缴费合计 {}，票面多 {}", receipt, tax, ours, gap))
        .when((kind == "payment_without_receipt") & (reason == "total_under")).then(pl.format(
            "票据 {} 票面 {}，所含缴费合计 {}，少开 {}", receipt, tax, ours, gap))
        .when(kind == "payment_without_receipt").then(pl.format(
            "窗口收款 {}（{}，{}，流水号 {}）没有有效票据", ours, day, channel.fill_null(""), ext))
        .when((kind == "cash_short") & (reason == "not_handed")).then(pl.format(
            "{}至{}的窗口现金收款 {} 尚未登记交款", start, end, ours))
        .when(kind == "cash_short").then(pl.format(
            "{}至{}窗口现金收款 {}，交款 {}，短款 {}", start, end, ours, tax, gap))
        .otherwise(pl.format("{}至{}窗口现金收款 {}，交款 {}，多交 {}", start, end, ours, tax, gap))
    )
    action = (
        pl.when((kind == "paid_not_booked") & ~pl.col("person_known")).then(pl.lit(
            "核实身份证号码：属本县居民的，先登记参保人再补录入账；号码有误或不属本县的，请税务更正或按规定退费"))
        .when((kind == "paid_not_booked") & (pl.col("channel") == "cash")).then(pl.lit(
            "该笔为现金缴费：请乡镇查明经手的村征收员，在窗口补登记缴费并开具票据"))
        .when(kind == "paid_not_booked").then(pl.lit("导入该渠道的缴费明细或补录入账，并核实参保登记"))
        .when((kind == "booked_not_paid") & counter).then(pl.lit(
            "款项尚未入库：请将收取的款项及时缴入税务（随收随缴）；如税务已收款，请核对缴费流水号"))
        .when(kind == "booked_not_paid").then(pl.lit(
            "请税务核实该笔缴费是否到账入库并补传记录；如属重复导入或错误入账，由医保经办冲正"))
        .when((kind == "amount_differs") & counter).then(pl.lit(
            "核对收款金额和票据，以实际缴入税务的金额为准：少缴的补缴差额，入账有误的由医保经办更正"))
        .when(kind == "amount_differs").then(pl.lit("请税务核对渠道明细金额，以实际到账金额为准更正"))
        .when((kind == "person_differs") & counter).then(pl.lit("核对缴费人身份证号码，更正错误的一方，确保钱人一致"))
        .when(kind == "person_differs").then(pl.lit("请税务核对缴费人身份信息，更正后重新传送缴费记录"))
        .when((kind == "receipt_without_payment") & (reason == "refunded")).then(pl.lit(
            "收回原票据，由乡镇在票据页“作废票据”（或开具红字票据），防止凭票重复主张权益"))
        .when((kind == "receipt_without_payment") & (reason == "total_over")).then(pl.lit("核实多开的金额，由乡镇在票据页“作废并换开新票据”"))
        .when(kind == "receipt_without_payment").then(pl.lit("核实该票据：确已收款的补录缴费，误开的作废票据"))
        .when((kind == "payment_without_receipt") & (reason == "total_under")).then(pl.lit("由乡镇在票据页“作废并换开新票据”，按实收金额重开"))
        .when(kind == "payment_without_receipt").then(pl.lit("补开票据交给缴费人，杜绝收费不开票或打白条"))
        .when((kind == "cash_short") & (reason == "not_handed")).then(pl.lit(
            "随收随缴：将现金交乡镇（或税务），由接收人在“现金交款”页登记"))
        .when(kind == "cash_short").then(pl.format("将短缺的现金 {} 尽快交乡镇（或税务），并由接收人登记交款", gap))
        .otherwise(pl.lit("核实是否有收款未登记（白条）或交款登记有误：补录缴费并开票，或更正交款记录"))
    )
    return df.with_columns(
        responsible_name.alias("responsible_name"), detail.alias("detail"), action.alias("action"),
        diff.alias("diff_cents"),
    )
