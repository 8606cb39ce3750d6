"""Writes of the progress area, one module a subject: targets (`targets`: import, adjust, roll up,
derive), the progress rollup (`refresh`) and 催缴 marks (`marks`). All are imported from here."""

from yibao.progress.services.common import LEVEL_NAMES, TARGET_FIELDS
from yibao.progress.services.marks import remind_mark
from yibao.progress.services.refresh import (
    AUTO_RECOUNT,
    progress_ensure,
    progress_is_stale,
    progress_refresh,
    progress_refresh_after_move,
    progress_refresh_enqueue,
)
from yibao.progress.services.targets import (
    target_set,
    targets_derive,
    targets_import,
    targets_load_demo,
    targets_rollup,
)

__all__ = [
    "AUTO_RECOUNT", "LEVEL_NAMES", "TARGET_FIELDS", "progress_ensure", "progress_is_stale", "progress_refresh",
    "progress_refresh_after_move", "progress_refresh_enqueue", "remind_mark", "target_set", "targets_derive",
    "targets_import", "targets_load_demo", "targets_rollup",
]
