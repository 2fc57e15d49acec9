"""Routing by the district's rules: who is told about a triaged tip, and when police are.

From the district's safety FAQ as DESIGN.md reads it: a threat outside school hours goes to
police dispatch when triage's police evidence holds (``triage.police``: a vote that named its
``police.*`` evidence); without it, the school's administrators and SRO/SSO are told at once,
without content, and the tip is marked for review, never forwarded on a guess. During school
hours a threat goes at once to the school's administration and its SRO/SSO; a tip with police
evidence goes to dispatch whatever the hour; a life at risk now gets a police welfare check.
"""

from __future__ import annotations

from tipline.hookspecs import hookimpl
from tipline.types import RouteAction, RouteContext, TipDraft, Triage

DISPATCH = "dispatch"
WELFARE = "welfare"


def _notify(addresses: tuple[str, ...], reason: str, purpose: str) -> list[RouteAction]:
    return [RouteAction("notify", a, reason, purpose) for a in addresses]


def _evidence(triage: Triage) -> str:
    """The evidence signal names behind a police mark, for the reason staff and the FERPA record read."""
    return ", ".join(triage.evidence) or "none named"


@hookimpl
def tipline_route(tip: TipDraft, triage: Triage, context: RouteContext) -> list[RouteAction]:
    actions: list[RouteAction] = []
    signals = set(triage.signals)
    threat = "threat" in triage.workflows
    if triage.police and "immediate.welfare" in signals:
        actions.append(RouteAction("forward", WELFARE, "A life may be at risk now: police welfare check. "
                                   f"Evidence: {_evidence(triage)}.", "welfare"))
    wants_dispatch = triage.police and ("immediate.dispatch" in signals or "immediate.welfare" not in signals)
    if wants_dispatch:
        actions.append(RouteAction("forward", DISPATCH, "Marked for immediate police: weapon, plan or "
                                   f"a person in danger now, whatever the hour. Evidence: {_evidence(triage)}.",
                                   "police"))
    if threat:
        staff = context.administrators + context.officers
        if not context.in_school_hours:
            if triage.police:
                actions.append(RouteAction("forward", DISPATCH, "Threat with police evidence received outside "
                                           f"school hours. Evidence: {_evidence(triage)}.", "police"))
            else:
                actions += _notify(staff, "Threat outside school hours without police evidence: not forwarded "
                                   "to police; marked for review, someone must look now.", "threat")
        elif staff:
            actions += _notify(staff, "Threat during school hours: school administration and SRO/SSO "
                               "told at once.", "threat")
        else:
            actions.append(RouteAction("forward", DISPATCH, "Threat during school hours with no school "
                                       "administration to tell.", "police"))
        if context.in_school_hours and triage.police:
            actions += _notify(staff, "Police dispatch was also told.", "threat")
    if "wellbeing" in triage.workflows:
        actions += _notify(context.counselors + context.administrators,
                           "A student's wellbeing may be at risk.", "wellbeing")
    for wf in ("deib", "cyberbullying"):
        if wf in triage.workflows:
            actions += _notify(context.administrators, f"A new {wf} tip for the school.", wf)
    return actions
