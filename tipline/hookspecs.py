"""Hook specifications for Tipline plugins.

Every hook a plugin may implement is declared here, typed, with a docstring that says what
to return and how results from several plugins combine. ``docs/plugins.md`` documents each
one; a test fails when a hook has no section there.
"""

from __future__ import annotations

from datetime import datetime

import pluggy

from tipline.types import (
    OutgoingDelivery,
    RouteAction,
    RouteContext,
    TipDraft,
    Triage,
    Vote,
    Workflow,
)

hookspec = pluggy.HookspecMarker("tipline")
hookimpl = pluggy.HookimplMarker("tipline")


@hookspec
def tipline_workflows() -> list[Workflow]:
    """Return the workflow definitions this plugin contributes.

    Collect-all: every plugin's list is concatenated. Workflow keys must be unique across
    plugins; a duplicate key stops the app at start with a clear message.
    """
    raise NotImplementedError


@hookspec
def tipline_findings(tip: TipDraft) -> list[str]:
    """Return the concept names this plugin's rules find in a tip, as ``workflow.concept``.

    Collect-all: the core gathers every plugin's names before any vote and hands the union to
    ``tipline_triage`` as ``findings``, so a plugin can weigh what others found (the model
    reads them as features) without importing them. Names only, never text.
    """
    raise NotImplementedError


@hookspec
def tipline_triage(tip: TipDraft, findings: frozenset[str]) -> Vote | None:
    """Read a tip's text in memory and return a vote, or ``None`` to abstain.

    ``findings`` is what every plugin's ``tipline_findings`` returned for this tip; a plugin
    that does not need it leaves the parameter out. Collect-all: the core merges votes (union
    of workflows and signals, highest priority). A vote with ``police`` must name its evidence
    as ``police.*`` signals (``tipline.types.POLICE_EVIDENCE``): without one the core marks the
    tip for review, not police. ``review`` asks a person to look now. The reporter's category
    is only a hint. Signals are names, never quoted text. Must not store, log or send the text.
    """
    raise NotImplementedError


@hookspec
def tipline_route(tip: TipDraft, triage: Triage, context: RouteContext) -> list[RouteAction]:
    """Return who must be told about a triaged tip: notifications and forwards.

    Collect-all: every plugin's actions are concatenated and de-duplicated by
    ``(kind, target)``, keeping the first reason. Which inboxes may read the tip follows
    from its workflows and school and is not decided here.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def tipline_deliver(delivery: OutgoingDelivery) -> bool | None:
    """Perform one outbox delivery.

    First result wins: return ``None`` when ``delivery.channel`` is not yours, ``True``
    when delivered. Raise an exception for a failure that should be retried.
    """
    raise NotImplementedError


@hookspec
def tipline_delivery_channels() -> list[str]:
    """Return the channels this plugin's ``tipline_deliver`` sends (``smtp``, ``webhook``...).

    Collect-all: the union is what the district file's endpoints may use. At start, a police
    endpoint (``dispatch = "sms:..."``) on a channel no plugin names stops the app with a
    clear message, as does ``tipline check-config``, rather than failing at the first threat.
    """
    raise NotImplementedError


@hookspec
def tipline_tip_received(tip_id: str, triage: Triage, received_at: datetime) -> None:
    """Called after a tip and its outbox rows are committed. Return value ignored.

    Receives no tip text. Use it for counters or extra notifications.
    """


@hookspec
def tipline_status_changed(tip_id: str, old: str, new: str, actor: str) -> None:
    """Called after staff change a tip's status. Return value ignored."""
