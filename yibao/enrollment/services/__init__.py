"""Writes of the enrollment area, one module a subject. First the contract that payments rely on
(`contract`): finding or registering the enrollment a payment books to, marking it paid, ending it
with a refund. Then campaigns (`campaigns`: open, close), the county-wide assessment (`assessment`,
核定) and the rest of the lifecycle (`lifecycle`: suspend, resume, terminate, transfer, tier).

Every change of status writes an event row. No one is enrolled twice for a year: within a county
the (county, resident, year) constraint, across counties the EnrollmentClaim constraint.
All are imported from here.
"""

from yibao.enrollment.services.assessment import (
    ASSESSMENT_COLUMNS,
    assessment_date,
    assessment_refresh,
    assessment_run,
)
from yibao.enrollment.services.campaigns import (
    CampaignError,
    campaign_close,
    campaign_history_ensure,
    campaign_open,
    campaign_reopen,
)
from yibao.enrollment.services.contract import (
    EnrollmentError,
    enrollment_end,
    enrollment_mark_paid,
    enrollment_register,
)
from yibao.enrollment.services.lifecycle import (
    TERMINATION_CAUSES,
    enrollment_choose_tier,
    enrollment_register_checked,
    enrollment_resume,
    enrollment_suspend,
    enrollment_terminate,
    enrollment_transfer,
    enrollments_follow_resident_status,
)

__all__ = [
    "ASSESSMENT_COLUMNS", "TERMINATION_CAUSES", "CampaignError", "EnrollmentError", "assessment_date",
    "assessment_refresh", "assessment_run", "campaign_close", "campaign_history_ensure", "campaign_open",
    "campaign_reopen", "enrollment_choose_tier", "enrollment_end", "enrollment_mark_paid", "enrollment_register",
    "enrollment_register_checked", "enrollment_resume", "enrollment_suspend", "enrollment_terminate",
    "enrollment_transfer", "enrollments_follow_resident_status",
]
