"""Routing by the district's rules: who is told about a triaged tip, and when police are.

From the district's safety FAQ: a threat outside school hours goes to police dispatch; during
school hours it goes at once to the school's administration and its SRO/SSO; a tip marked
for immediate police goes to dispatch whatever the hour; a life at risk now gets a police
welfare check.
"""

from __future__ import annotations

from tipline.hookspecs import hookimpl
from tipline.types import RouteAction, RouteContext, TipDraft, Triage

DISPATCH = "dispatch"
WELFARE = "welfare"


def _notify(addresses: tuple[str, ...], reason: str, purpose: str) -> list[RouteAction]:
    return [RouteAction("notify", a, reason, purpose) for a in addresses]


@hookimpl
def tipline_route(tip: TipDraft, triage: Triage, context: RouteContext) -> list[RouteAction]:
    actions: list[RouteAction] = []
    signals = set(triage.signals)
    threat = "threat" in triage.workflows
    if triage.police and "immediate.welfare" in signals:
        actions.append(RouteAction("forward", WELFARE, "A life may be at risk now: police welfare check.",
                                   "welfare"))
    wants_dispatch = triage.police and ("immediate.dispatch" in signals or "immediate.welfare" not in signals)
    if wants_dispatch:
        actions.append(RouteAction("forward", DISPATCH, "Marked for immediate police: weapon, plan or "
                                   "a person in danger now, whatever the hour.", "police"))
    if threat:
        staff = context.administrators + context.officers
        if not context.in_school_hours:
            actions.append(RouteAction("forward", DISPATCH, "Threat received outside school hours.", "police"))
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
