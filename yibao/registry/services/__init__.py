"""Writes of the registry, one module a subject: households and residents (`households`), identities
and group facts (`identities`), flags (`flags`), and the checks they share (`common`).

Every service takes keyword arguments only, runs in one transaction, checks the actor's
capability and region (a User; a string such as cli_actor() is the command line, unrestricted)
and writes an event row for every change of status. All are imported from here.
"""

from yibao.registry.services.common import HEAD, RELATIONS, SEX_NAMES, SEX_WORDS, CheckedPerson, person_check
from yibao.registry.services.flags import flag_create, flag_resolve
from yibao.registry.services.households import (
    RESIDENT_FIELDS,
    STATUS_SOURCES,
    RegisterResult,
    household_member_add,
    household_register,
    household_set_head,
    resident_move,
    resident_status_change,
    resident_update,
)
from yibao.registry.services.identities import group_fact_add, group_fact_remove, identity_add, identity_end

__all__ = [
    "HEAD", "RELATIONS", "RESIDENT_FIELDS", "SEX_NAMES", "SEX_WORDS", "STATUS_SOURCES", "CheckedPerson",
    "RegisterResult", "flag_create", "flag_resolve", "group_fact_add", "group_fact_remove", "household_member_add",
    "household_register", "household_set_head", "identity_add", "identity_end", "person_check", "resident_move",
    "resident_status_change", "resident_update",
]
