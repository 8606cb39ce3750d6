#!/usr/bin/env bash
# 一年的工作（命令行）：怀远县 2025 年度，从安装政策到最后一次对账。
# 说明见 docs/year-cli.md。县里改用时：换成本县的政策文件、区划代码和名单文件，去掉 YIBAO_TODAY 一行行的日期。
set -euo pipefail

YIBAO=${YIBAO:-yibao}                   # 命令行工具；测试中为 "python -m yibao.cli"
MANAGE=${MANAGE:-python manage.py}      # 建库（迁移）
FILES=${FILES:-docs/year-cli}           # 名单文件所在目录
OUT=${OUT:-year-cli-out}                # 报表、差异明细写到这里
COUNTY=340321                           # 怀远县
YEAR=2025                               # 待遇年度
POLICY=anhui-huaiyuan-quanxian-2025   # 本县的政策编号：<省>-<县>[-<乡镇>]-<待遇年度>，内置编号不能覆盖
BASE=anhui-huaiyuan-2025                # 以系统内置的怀远县通知为底本
RULES=${RULES:-yibao/policy/rules}      # 内置政策文件所在目录
mkdir -p "$OUT"

# 营业日：演示把每一步放在当年的日子里办理（正式使用时不设，取今天）
on() { export YIBAO_TODAY=$1; echo "== $1 $2" >&2; }

# ---- 1. 建库、政策、账号 -------------------------------------------------------------------
on 2024-08-20 "建库、校验并安装政策"
$MANAGE migrate --noinput >/dev/null
# 本县的政策文件：复制底本改编号（县里按本县通知改金额、日期、资助），用例文件同名放在旁边
mkdir -p "$OUT/policy"
sed "s/^id: $BASE\$/id: $POLICY/" "$RULES/$BASE.yaml" >"$OUT/policy/$POLICY.yaml"
sed "s/^policy: $BASE\$/policy: $POLICY/" "$RULES/$BASE.cases.yaml" >"$OUT/policy/$POLICY.cases.yaml"
$YIBAO policy check "$OUT/policy/$POLICY.yaml"
$YIBAO policy install "$OUT/policy/$POLICY.yaml" --replace

# ---- 2. 名单：区划、户籍、部门资助身份、职工医保、上年参保、参保群体 -------------------------
on 2024-08-21 "导入名单"
$YIBAO import regions "$FILES/regions.csv" --quiet
$YIBAO import residents "$FILES/residents.csv" --county $COUNTY --quiet
$YIBAO import identities "$FILES/identities-minzheng.csv" --department 民政 --county $COUNTY --quiet
$YIBAO import identities "$FILES/identities-xiangcun.csv" --department 乡村振兴 --county $COUNTY --quiet
$YIBAO import employees "$FILES/employees.csv" --county $COUNTY --quiet
$YIBAO import enrollments "$FILES/enrollments-2024.csv" --county $COUNTY --quiet
$YIBAO import groups "$FILES/births.csv" --group newborn --county $COUNTY --quiet
$YIBAO import groups "$FILES/students.csv" --group university_student --county $COUNTY --quiet

# 账号：村征收员（窗口收款、现金交款记在其名下）
$YIBAO users create zhangzhuang --role village_collector --region 340321100201 --name 张庄村征收员 \
  --password 'Zhangzhuang-2024' >/dev/null

# ---- 3. 开启征缴、核定、目标任务 -------------------------------------------------------------
on 2024-08-30 "开启征缴年度、核定、目标任务"
$YIBAO campaign open --county $COUNTY --policy $POLICY
$YIBAO assess --county $COUNTY --year $YEAR --quiet
$YIBAO targets import "$FILES/targets.csv" --county $COUNTY --year $YEAR

# ---- 4. 收款：窗口一人、窗口一户、渠道明细、补缴差额 -----------------------------------------
on 2024-09-10 "窗口收款"
$YIBAO pay --id-number 340321197512010316 --year $YEAR --amount 200.00 --channel pos       # 周立新（监测对象，个人缴200元）
$YIBAO pay --household 100201001 --members 340321196803120115,340321197007080145,34032120240618018X \
  --year $YEAR --channel cash --user zhangzhuang                                          # 张建国户：三人一张票据

on 2024-09-16 "现金交款（张庄村征收员交上周收的现金）"
$YIBAO handover --village 340321100201 --year $YEAR --collector zhangzhuang \
  --from 2024-09-09 --to 2024-09-15 --on 2024-09-16 --amount 1200.00

on 2024-09-21 "导入税务局缴费明细"
$YIBAO ingest payments "$FILES/channel-2024-09.csv" --county $COUNTY --quiet

on 2024-09-25 "补缴差额（陈静少缴100元）"
$YIBAO top-up SW202400000002 --channel wechat --amount 100.00

# ---- 5. 变动：退费、迁移、催缴标记 ---------------------------------------------------------
on 2024-10-08 "退费（吴红梅已参加职工医保）"
REFUND=$($YIBAO refund request --id-number 340321197806210348 --year $YEAR --reason joined_employee_insurance \
  --note "已在县城企业参加职工医保" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["refund_id"])')
$YIBAO refund approve "$REFUND" --note 同意
$YIBAO refund book "$REFUND"

on 2024-10-12 "窗口收款（张伟，微信）"
$YIBAO pay --id-number 340321199511020159 --year $YEAR --amount 400.00 --channel wechat

on 2024-10-15 "县内迁移（张伟婚迁到王集村）"
$YIBAO enrollment transfer 340321199511020159 --year $YEAR --to-village 340321101201 --reason 婚迁

on 2024-10-20 "村里交回的催缴回执"
$YIBAO remind mark --file "$FILES/remind-marks.csv" --year $YEAR

# ---- 6. 进度与周报 ------------------------------------------------------------------------
on 2024-10-28 "进度、周报（为上周五）"
$YIBAO progress --county $COUNTY --year $YEAR --on 2024-10-25 >/dev/null
$YIBAO report weekly --county $COUNTY --on 2024-10-25 --out "$OUT/周报-2024-10-25.xlsx"

# ---- 7. 对账 -----------------------------------------------------------------------------
on 2024-12-31 "最后一次对账"
$YIBAO reconcile --county $COUNTY --year $YEAR --tax-file "$FILES/tax-2024-12.csv" --as-of 2024-12-31 \
  --report "$OUT/对账差异-2024-12-31.xlsx" --quiet
