"""Who may do what: one policy, default deny.

Three layers, all here or in `onward.security.access`:
1. each role's grants (`GRANTS`), plus permissions an administrator grants one account (`GRANTABLE`);
2. `ROUTES`: every route of the web app and the API names the permissions that open it (any one of
   them). A route missing from this table is refused to everyone, and a test that walks every route
   and every role fails, so no route can be added without a rule;
3. record by record (`onward.security.access`): whose record, which episode, under which basis.
"""

from __future__ import annotations

from enum import StrEnum

from onward.errors import PermissionDeniedError
from onward.model.roles import Role


class Permission(StrEnum):
    OWN_ACCOUNT = "own_account"  # one's own sessions and password
    OWN_RECORD = "own_record"  # a person's own record and the accounting of who saw it
    CASELOAD = "caseload"  # the episodes a clinician is assigned to (primary or care team)
    BREAK_GLASS = "break_glass"  # emergency access to a person outside one's caseload: reason, 1 h, audited
    INVITE_PERSON = "invite_person"  # send a person a one-time link to set up their own account
    RECORD_CONSENT = "record_consent"  # record or revoke a Part 2 consent for a person one may see
    OWN_PROGRAMS = "own_programs"  # capacity, census and waiting list of the manager's programs
    ALL_PROGRAMS = "all_programs"  # program list and capacity across the system (no people)
    AGGREGATES = "aggregates"  # system totals with small-cell suppression
    IDENTIFIED_RECORDS = "identified_records"  # only by an administrator's grant: person-level records
    COUNCIL = "council"  # the council: ideas, decisions and plans
    MANAGE_USERS = "manage_users"  # accounts: add, deactivate, change role, reset links, grants
    AUDIT_LOG = "audit_log"  # search the audit log
    WHAT_IF = "what_if"  # run and compare simulated scenarios
    SKILLS_DELIVERY = "skills_delivery"  # cohorts, schedules and delivery logs of one's own programs
    CURRICULUM_LEAD = "curriculum_lead"  # only by an administrator's grant: approve a site's lesson versions
    RECORD_CARE = "record_care"  # measures, services, links, stage, exit and criteria of episodes one may see
    REFER = "refer"  # make referrals, including a fast re-entry after a graduation
    ADMIT = "admit"  # intake and starting episodes from the waiting list of one's own programs
    SET_TARGETS = "set_targets"  # set, remove and accept targets per metric and program (docs/targets.md)
    PROPOSE_TARGETS = "propose_targets"  # propose targets for one's own programs, for a leader to accept
    VOICE = "voice"  # take part in voice: submit, support, comment on and report ideas; own notifications
    VOICE_MODERATE = "voice_moderate"  # review reported ideas and comments, see who wrote what


_EVERYONE = frozenset({Permission.OWN_ACCOUNT, Permission.VOICE})

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.PERSON: _EVERYONE | {Permission.OWN_RECORD},
    Role.CLINICIAN: _EVERYONE
    | {
        Permission.CASELOAD,
        Permission.BREAK_GLASS,
        Permission.INVITE_PERSON,
        Permission.RECORD_CONSENT,
        Permission.SKILLS_DELIVERY,
        Permission.RECORD_CARE,
        Permission.REFER,
        Permission.ADMIT,
    },
    Role.MANAGER: _EVERYONE
    | {Permission.OWN_PROGRAMS, Permission.REFER, Permission.ADMIT, Permission.PROPOSE_TARGETS},
    Role.LEADER: _EVERYONE
    | {Permission.AGGREGATES, Permission.ALL_PROGRAMS, Permission.WHAT_IF, Permission.SET_TARGETS},
    Role.ANALYST: _EVERYONE | {Permission.AGGREGATES, Permission.ALL_PROGRAMS, Permission.WHAT_IF},
    Role.COUNCIL_MEMBER: _EVERYONE | {Permission.COUNCIL, Permission.VOICE_MODERATE},
    # Administrators run accounts and settings and never see clinical records.
    Role.ADMIN: _EVERYONE
    | {
        Permission.MANAGE_USERS,
        Permission.AUDIT_LOG,
        Permission.INVITE_PERSON,
        Permission.ALL_PROGRAMS,
        Permission.WHAT_IF,
    },
    # Teachers teach and log the skills lessons of their school; they see no clinical record.
    Role.TEACHER: _EVERYONE | {Permission.SKILLS_DELIVERY},
}

#: Permissions an administrator may grant one account beyond its role, and to which roles.
GRANTABLE: dict[Permission, frozenset[Role]] = {
    Permission.IDENTIFIED_RECORDS: frozenset({Role.LEADER, Role.ANALYST}),
    # A school's or clinic's curriculum lead is one of its own staff (docs/skills.md, "Local review").
    Permission.CURRICULUM_LEAD: frozenset({Role.MANAGER, Role.CLINICIAN, Role.TEACHER}),
}


def role_permissions(role: str | None) -> frozenset[Permission]:
    if role is None:
        return frozenset()
    try:
        return GRANTS.get(Role(role), frozenset())
    except ValueError:
        return frozenset()


def is_allowed(role: str | None, permission: Permission) -> bool:
    """True only when `role` is a known role explicitly granted `permission`; anything unknown is denied."""
    return permission in role_permissions(role)


def require(role: str | None, permission: Permission) -> None:
    """Raise PermissionDeniedError unless `role` holds `permission`."""
    if not is_allowed(role, permission):
        raise PermissionDeniedError(
            f"your role ({role or 'anonymous'}) may not see this page ({permission.value})"
        )


class Open(StrEnum):
    """Routes that need no permission: anyone (`PUBLIC`), or anyone signed in (`SIGNED_IN`)."""

    PUBLIC = "public"
    SIGNED_IN = "signed_in"


Rule = Open | frozenset[Permission]


def _any(*permissions: Permission) -> frozenset[Permission]:
    return frozenset(permissions)


P = Permission
#: Lessons are the project's teaching material, not anyone's record: staff who teach, review or run programs.
_LESSON_READERS = _any(P.SKILLS_DELIVERY, P.CURRICULUM_LEAD, P.OWN_PROGRAMS, P.AGGREGATES)

#: Every route of the app: "METHOD /path" -> who may call it. Missing means nobody (default deny).
ROUTES: dict[str, Rule] = {
    # sign-in, sign-out, account links
    "GET /": Open.PUBLIC,
    "GET /login": Open.PUBLIC,
    "POST /login": Open.PUBLIC,
    "POST /logout": Open.SIGNED_IN,
    "GET /invite/{token}": Open.PUBLIC,
    "POST /invite/{token}": Open.PUBLIC,
    "GET /reset/{token}": Open.PUBLIC,
    "POST /reset/{token}": Open.PUBLIC,
    "GET /account": _any(P.OWN_ACCOUNT),
    "POST /account/password": _any(P.OWN_ACCOUNT),
    "POST /account/sessions/{session_id}/end": _any(P.OWN_ACCOUNT),
    # role homes
    "GET /me": _any(P.OWN_RECORD),
    "GET /me/accounting": _any(P.OWN_RECORD),
    "GET /caseload": _any(P.CASELOAD),
    "GET /programs": _any(P.OWN_PROGRAMS),
    "GET /system": _any(P.AGGREGATES),
    "GET /council": _any(P.COUNCIL),
    # a person's record, for those who may see it (checked record by record)
    "GET /people/{person_id}": _any(P.CASELOAD, P.BREAK_GLASS, P.OWN_PROGRAMS, P.IDENTIFIED_RECORDS),
    "POST /people/{person_id}/invitation": _any(P.INVITE_PERSON),
    "GET /people/{person_id}/consents": _any(P.RECORD_CONSENT),
    "POST /people/{person_id}/consents": _any(P.RECORD_CONSENT),
    "POST /consents/{consent_id}/revoke": _any(P.RECORD_CONSENT),
    "GET /break-glass": _any(P.BREAK_GLASS),
    "POST /break-glass": _any(P.BREAK_GLASS),
    # administration
    "GET /admin/users": _any(P.MANAGE_USERS),
    "POST /admin/users": _any(P.MANAGE_USERS),
    "POST /admin/users/{user_id}/deactivate": _any(P.MANAGE_USERS),
    "POST /admin/users/{user_id}/reactivate": _any(P.MANAGE_USERS),
    "POST /admin/users/{user_id}/role": _any(P.MANAGE_USERS),
    "POST /admin/users/{user_id}/reset-link": _any(P.MANAGE_USERS),
    "POST /admin/users/{user_id}/grants": _any(P.MANAGE_USERS),
    "POST /admin/grants/{grant_id}/revoke": _any(P.MANAGE_USERS),
    "POST /admin/invitations": _any(P.MANAGE_USERS),
    "GET /admin/audit": _any(P.AUDIT_LOG),
    # metrics and what-if
    "GET /dashboard": _any(P.AGGREGATES),
    "GET /programs/metrics": _any(P.AGGREGATES, P.ALL_PROGRAMS, P.OWN_PROGRAMS),
    "GET /metrics/{key}": _any(P.AGGREGATES),
    "GET /whatif": _any(P.WHAT_IF),
    "POST /whatif": _any(P.WHAT_IF),
    "GET /whatif/runs/{job_id}": _any(P.WHAT_IF),
    "GET /whatif/runs/{job_id}/status": _any(P.WHAT_IF),
    "GET /api/v1/docs": Open.PUBLIC,
    # skills: lessons, a site's versions and their review, cohorts, delivery logs, coverage, screens
    "GET /skills": _any(P.SKILLS_DELIVERY, P.CURRICULUM_LEAD),
    "GET /skills/curricula/{curriculum_id}": _LESSON_READERS,
    "GET /skills/lessons/{lesson_id}": _LESSON_READERS,
    "GET /skills/lessons/{lesson_id}/edit": _any(P.SKILLS_DELIVERY, P.CURRICULUM_LEAD),
    "POST /skills/lessons/{lesson_id}/edit": _any(P.SKILLS_DELIVERY, P.CURRICULUM_LEAD),
    "GET /skills/review": _any(P.CURRICULUM_LEAD),
    "GET /skills/versions/{version_id}": _any(P.SKILLS_DELIVERY, P.CURRICULUM_LEAD),
    "POST /skills/versions/{version_id}/decision": _any(P.CURRICULUM_LEAD),
    "GET /skills/packets/{curriculum_id}": _LESSON_READERS,
    "GET /skills/packets/{curriculum_id}.pdf": _LESSON_READERS,
    "GET /skills/cohorts/new": _any(P.SKILLS_DELIVERY),
    "POST /skills/cohorts": _any(P.SKILLS_DELIVERY),
    "GET /skills/cohorts/{cohort_id}": _any(P.SKILLS_DELIVERY, P.OWN_PROGRAMS),
    "POST /skills/cohorts/{cohort_id}/birth": _any(P.SKILLS_DELIVERY),
    "GET /skills/sessions/{session_id}/log": _any(P.SKILLS_DELIVERY),
    "POST /skills/sessions/{session_id}/log": _any(P.SKILLS_DELIVERY),
    "GET /skills/coverage": _any(P.SKILLS_DELIVERY, P.OWN_PROGRAMS, P.AGGREGATES),
    "GET /skills/cohorts/{cohort_id}/screen": _any(P.SKILLS_DELIVERY),
    "POST /skills/cohorts/{cohort_id}/screen": _any(P.SKILLS_DELIVERY),
    "GET /skills/screens/{screen_id}": _any(P.SKILLS_DELIVERY),
    "POST /skills/screens/{screen_id}/referral": _any(P.SKILLS_DELIVERY),
    # JSON API
    "GET /api/v1/openapi.json": Open.PUBLIC,
    "GET /api/v1/health": Open.PUBLIC,
    "POST /api/v1/session": Open.PUBLIC,
    "DELETE /api/v1/session": Open.SIGNED_IN,
    "GET /api/v1/me": Open.SIGNED_IN,
    "GET /api/v1/me/sessions": _any(P.OWN_ACCOUNT),
    "DELETE /api/v1/me/sessions/{session_id}": _any(P.OWN_ACCOUNT),
    "GET /api/v1/programs": _any(P.ALL_PROGRAMS, P.OWN_PROGRAMS),
    "GET /api/v1/users": _any(P.MANAGE_USERS),
    "GET /api/v1/metrics": _any(P.AGGREGATES),
    "GET /api/v1/people/{person_id}": _any(P.CASELOAD, P.BREAK_GLASS, P.OWN_PROGRAMS, P.IDENTIFIED_RECORDS),
    "POST /api/v1/break-glass": _any(P.BREAK_GLASS),
    "GET /api/v1/audit": _any(P.AUDIT_LOG),
    # pathways: episodes built to be left (docs/pathways.md); records are checked one by one
    "GET /episodes/{episode_id}": _any(P.CASELOAD, P.BREAK_GLASS, P.OWN_PROGRAMS, P.IDENTIFIED_RECORDS),
    "POST /episodes/{episode_id}/measurements": _any(P.RECORD_CARE),
    "POST /episodes/{episode_id}/services": _any(P.RECORD_CARE),
    "POST /episodes/{episode_id}/links": _any(P.RECORD_CARE),
    "POST /episodes/{episode_id}/step-down": _any(P.RECORD_CARE),
    "POST /episodes/{episode_id}/resume": _any(P.RECORD_CARE),
    "POST /episodes/{episode_id}/end": _any(P.RECORD_CARE),
    "POST /episodes/{episode_id}/exit": _any(P.RECORD_CARE),
    "POST /episodes/{episode_id}/criteria": _any(P.RECORD_CARE),
    "POST /episodes/{episode_id}/refer-back": _any(P.REFER),
    "GET /referrals/{referral_id}/start": _any(P.ADMIT),
    "POST /referrals/{referral_id}/start": _any(P.ADMIT),
    "POST /referrals/{referral_id}/intake": _any(P.ADMIT),
    "GET /answer/{token}": Open.PUBLIC,
    "POST /answer/{token}": Open.PUBLIC,
    "GET /api/v1/caseload": _any(P.CASELOAD),
    "GET /api/v1/episodes/{episode_id}": _any(
        P.CASELOAD, P.BREAK_GLASS, P.OWN_PROGRAMS, P.IDENTIFIED_RECORDS
    ),
    "GET /api/v1/episodes/{episode_id}/flags": _any(
        P.CASELOAD, P.BREAK_GLASS, P.OWN_PROGRAMS, P.IDENTIFIED_RECORDS
    ),
    "POST /api/v1/episodes/{episode_id}/measurements": _any(P.RECORD_CARE),
    "POST /api/v1/episodes/{episode_id}/services": _any(P.RECORD_CARE),
    "POST /api/v1/episodes/{episode_id}/links": _any(P.RECORD_CARE),
    "POST /api/v1/episodes/{episode_id}/stage": _any(P.RECORD_CARE),
    "POST /api/v1/episodes/{episode_id}/end": _any(P.RECORD_CARE),
    "POST /api/v1/episodes/{episode_id}/exit": _any(P.RECORD_CARE),
    "PUT /api/v1/episodes/{episode_id}/criteria": _any(P.RECORD_CARE),
    "POST /api/v1/episodes/{episode_id}/reentry": _any(P.REFER),
    "POST /api/v1/referrals": _any(P.REFER),
    "POST /api/v1/referrals/{referral_id}/intake": _any(P.ADMIT),
    "POST /api/v1/referrals/{referral_id}/episode": _any(P.ADMIT),
    "GET /api/v1/programs/{program_id}/waiting": _any(P.ADMIT),
    "GET /api/v1/me/progress": _any(P.OWN_RECORD),
    # targets (docs/targets.md): read with the figures; leaders set, managers propose for their programs
    "GET /targets": _any(P.SET_TARGETS, P.PROPOSE_TARGETS, P.AGGREGATES),
    "POST /targets": _any(P.SET_TARGETS, P.PROPOSE_TARGETS),
    "POST /targets/{target_id}/decision": _any(P.SET_TARGETS),
    "GET /api/v1/targets": _any(P.AGGREGATES, P.ALL_PROGRAMS, P.OWN_PROGRAMS),
    "GET /story": _any(P.AGGREGATES),
    # access: the waiting list and its outcomes (docs/web.md, "Waiting list")
    "GET /programs/{program_id}/waiting": _any(P.ADMIT),
    "POST /programs/{program_id}/waiting/offer-next": _any(P.ADMIT),
    "GET /referrals/{referral_id}/waiting": _any(P.ADMIT),
    "POST /referrals/{referral_id}/offer": _any(P.ADMIT),
    "POST /referrals/{referral_id}/contacts": _any(P.ADMIT),
    "POST /referrals/{referral_id}/appointment": _any(P.ADMIT),
    "POST /referrals/{referral_id}/close": _any(P.ADMIT),
    # voice: campaigns, ideas, the council's decisions, plans and results (docs/voice.md)
    "GET /voice": _any(P.VOICE),
    "GET /voice/results": Open.PUBLIC,
    "GET /voice/campaigns/{campaign_id}": _any(P.VOICE),
    "POST /voice/campaigns": _any(P.COUNCIL),
    "GET /voice/campaigns/{campaign_id}/export.csv": _any(P.COUNCIL),
    "GET /voice/ideas/new": _any(P.VOICE),
    "POST /voice/ideas": _any(P.VOICE),
    "GET /voice/similar": _any(P.VOICE),
    "GET /voice/ideas/{idea_id}": _any(P.VOICE),
    "POST /voice/ideas/{idea_id}/support": _any(P.VOICE),
    "POST /voice/ideas/{idea_id}/comments": _any(P.VOICE),
    "POST /voice/ideas/{idea_id}/report": _any(P.VOICE),
    "POST /voice/comments/{comment_id}/report": _any(P.VOICE),
    "GET /voice/notifications": _any(P.VOICE),
    "POST /voice/notifications/read": _any(P.VOICE),
    "POST /voice/notifications/email": _any(P.VOICE),
    "POST /voice/ideas/{idea_id}/review": _any(P.COUNCIL, P.VOICE_MODERATE),
    "POST /voice/ideas/{idea_id}/decision": _any(P.COUNCIL),
    "POST /voice/ideas/{idea_id}/plan": _any(P.COUNCIL),
    "POST /voice/ideas/{idea_id}/progress": _any(P.COUNCIL),
    "POST /voice/ideas/{idea_id}/implemented": _any(P.COUNCIL),
    "POST /voice/ideas/{idea_id}/evaluation": _any(P.COUNCIL),
    "GET /voice/moderation": _any(P.VOICE_MODERATE),
    "POST /voice/moderation": _any(P.VOICE_MODERATE),
    "GET /council/members": _any(P.COUNCIL, P.MANAGE_USERS),
    "POST /council/members": _any(P.MANAGE_USERS),
    "POST /council/members/{member_id}/leave": _any(P.MANAGE_USERS),
    "GET /voice/metrics": _any(P.AGGREGATES),
    "GET /admin/service-codes": _any(P.MANAGE_USERS),
    "GET /programs/{program_id}/capacity": _any(P.OWN_PROGRAMS, P.ALL_PROGRAMS),
    "GET /programs/access": _any(P.OWN_PROGRAMS),
    "POST /api/v1/referrals/{referral_id}/offer": _any(P.ADMIT),
    "POST /api/v1/referrals/{referral_id}/contacts": _any(P.ADMIT),
    "POST /api/v1/referrals/{referral_id}/appointment": _any(P.ADMIT),
    "POST /api/v1/referrals/{referral_id}/outcome": _any(P.ADMIT),
}


def route_key(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def route_allows(rule: Rule | None, permissions: frozenset[Permission], signed_in: bool) -> bool:
    """Whether a caller with `permissions` may call a route with `rule` (None: no rule, denied)."""
    if rule is None:
        return False
    if rule is Open.PUBLIC:
        return True
    if rule is Open.SIGNED_IN:
        return signed_in
    return signed_in and isinstance(rule, frozenset) and bool(rule & permissions)
