"""The district's routing rules: who is told about a triaged tip, and when police are.

From the district's safety FAQ (Q1/Q2) as DESIGN.md reads it:

- a threat outside school hours goes to police dispatch when triage's police evidence holds
  (``triage.police``: a vote that named its ``police.*`` evidence); during school hours it goes
  at once to the school's administration and its SRO/SSO, and to dispatch as well when the
  evidence holds, whatever the hour;
- at any hour the school is always told about a threat: its administrators, its SRO/SSO and
  its threat-assessment team (no content);
- a tip marked for review, or any urgent tip, pages the on-call team of its school and
  workflow at any hour;
- a life at risk now gets a police welfare check, and the school's counselors and
  administrators are told;
- nothing reaches police without evidence, and a bias-only tip never does.

Staff are named by role and school (``role:sro@SHS``); the outbox turns roles into console
accounts. Pages are ``oncall:<school>:<workflow>`` and are queued by the on-call module.
"""

from __future__ import annotations

from tipline.hookspecs import hookimpl
from tipline.types import RouteAction, RouteContext, TipDraft, Triage, oncall_target, staff_target

DISPATCH = "dispatch"
WELFARE = "welfare"
# A tip no workflow claimed pages the general on-call team.
GENERAL = "general"


def _evidence(triage: Triage) -> str:
    """The evidence signal names behind a police mark, for the reason staff and the FERPA record read."""
    return ", ".join(triage.evidence) or "none named"


def _tell(context: RouteContext, roles: tuple[str, ...], reason: str, purpose: str) -> list[RouteAction]:
    return [RouteAction("notify", staff_target(role, context.school), reason, purpose) for role in roles]


def _threat(triage: Triage, context: RouteContext) -> list[RouteAction]:
    actions: list[RouteAction] = []
    if triage.police:
        when = ("outside school hours (safety FAQ Q1)" if not context.in_school_hours
                else "during school hours: police evidence goes to dispatch whatever the hour")
        actions.append(RouteAction("forward", DISPATCH, f"Threat with police evidence received {when}. "
                                   f"Evidence: {_evidence(triage)}.", "police"))
    if context.in_school_hours:
        school = "Threat during school hours: the school's administration and SRO/SSO are told at once (FAQ Q2)"
    elif triage.police:
        school = "Threat outside school hours, forwarded to police dispatch: the school is told at once too"
    else:
        school = ("Threat outside school hours without police evidence: not forwarded to police; the school "
                  "is told at once")
    actions += _tell(context, ("school-admin", "sro"), school + ".", "threat")
    actions += _tell(context, ("threat-team",), "A threat for the school's threat-assessment team (CSTAG), "
                     "told at once at any hour.", "threat")
    # A game or activity counts as school time (FAQ Q15): the people running it are told too.
    actions += [RouteAction("notify", address, "Threat during a school event: the event's staff are told at "
                            "once.", "threat") for address in context.event_staff]
    return actions


# Whose on-call team a page wakes when a tip opens several workflows: danger to life first.
PAGE_ORDER = ("threat", "wellbeing", "cyberbullying", "deib")


def _pages(triage: Triage, context: RouteContext, bias_only: bool) -> list[RouteAction]:
    if triage.review:
        reason = "Marked for review: possible danger short of police evidence; a person must look now."
    elif triage.police and bias_only:
        reason = ("Police evidence on a tip triaged as bias only: not forwarded to police; a person decides "
                  f"now. Evidence: {_evidence(triage)}.")
    elif triage.priority == "urgent":
        reason = "Urgent tip: the on-call team looks now, at any hour."
    else:
        return []
    # One team is woken, not one per workflow: the one the danger belongs to.
    wf = next((w for w in PAGE_ORDER if w in triage.workflows), triage.workflows[0] if triage.workflows else GENERAL)
    return [RouteAction("page", oncall_target(context.school, wf), reason, wf)]


@hookimpl
def tipline_route(tip: TipDraft, triage: Triage, context: RouteContext) -> list[RouteAction]:
    actions: list[RouteAction] = []
    workflows = set(triage.workflows)
    signals = set(triage.signals)
    # A bias report that only triage's words put near police is a person's call, never an
    # automatic forward: the DEIB workflow is the school's, not the police's.
    bias_only = workflows == {"deib"}
    police = triage.police and not bias_only
    welfare = police and "immediate.welfare" in signals
    if welfare:
        actions.append(RouteAction("forward", WELFARE, "A life may be at risk now: police welfare check. "
                                   f"Evidence: {_evidence(triage)}.", "welfare"))
        actions += _tell(context, ("counselor", "school-admin"), "A life may be at risk now: a police welfare "
                         "check was requested; the school's counselors and administrators are told.", "wellbeing")
    if "threat" in workflows:
        actions += _threat(triage, context)
    elif police and ("immediate.dispatch" in signals or not welfare):
        actions.append(RouteAction("forward", DISPATCH, "Marked for immediate police: weapon, plan or a person "
                                   f"in danger now, whatever the hour. Evidence: {_evidence(triage)}.", "police"))
    actions += _pages(triage, context, bias_only)
    if "wellbeing" in workflows:
        actions += _tell(context, ("counselor", "school-admin"), "A student's wellbeing may be at risk.", "wellbeing")
    if "deib" in workflows:
        actions += _tell(context, ("deib", "counselor", "school-admin"), "A new bias (DEIB) report for the school.",
                         "deib")
    if "cyberbullying" in workflows:
        actions += _tell(context, ("school-admin", "counselor"), "A new cyberbullying report for the school.",
                         "cyberbullying")
    return actions
