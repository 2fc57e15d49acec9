"""The plugin manager: one per app, built-in plugins loaded like third-party ones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pluggy

from tipline import hookspecs
from tipline.types import (
    POLICE_PREFIX,
    PRIORITIES,
    OutgoingDelivery,
    RouteAction,
    RouteContext,
    TipDraft,
    Triage,
    Vote,
    Workflow,
)

ENTRY_POINT_GROUP = "tipline"


class PluginError(RuntimeError):
    pass


def make_manager(only: Iterable[str] | None = None, load_entry_points: bool = True) -> pluggy.PluginManager:
    """Build a plugin manager.

    ``only`` restricts entry points to those names (``TIPLINE_PLUGINS``); ``None`` loads all.
    """
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    if load_entry_points:
        if only is None:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        else:
            for name in only:
                pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name)
            missing = set(only) - {n for n, _ in pm.list_name_plugin()}
            if missing:
                raise PluginError(f"TIPLINE_PLUGINS names unknown plugins: {', '.join(sorted(missing))}")
    return pm


def workflows(pm: pluggy.PluginManager) -> dict[str, Workflow]:
    found: dict[str, Workflow] = {}
    for batch in pm.hook.tipline_workflows():
        for wf in batch:
            if wf.key in found:
                raise PluginError(f"two plugins define the workflow {wf.key!r}")
            found[wf.key] = wf
    return found


def merge_votes(votes: Iterable[Vote | None]) -> Triage:
    """Union of workflows and signals, the highest priority; police when a vote says so with
    its evidence (a ``police.*`` signal). A police vote without evidence, or a review vote,
    marks the tip for review instead: a person looks now, nothing goes to police on a guess."""
    wfs: set[str] = set()
    signals: set[str] = set()
    rank = 0
    police = review = False
    for vote in votes:
        if vote is None:
            continue
        wfs.update(vote.workflows)
        signals.update(vote.signals)
        evidence = any(s.startswith(POLICE_PREFIX) for s in vote.signals)
        # "urgent" is the police bar's priority: a vote short of it counts as "high" at most.
        rank = max(rank, min(PRIORITIES.index(vote.priority), PRIORITIES.index("high")))
        police = police or (vote.police and evidence)
        review = review or vote.review or (vote.police and not evidence)
    if police:
        rank = PRIORITIES.index("urgent")
    elif review:
        rank = max(rank, PRIORITIES.index("high"))
    return Triage(tuple(sorted(wfs)), PRIORITIES[rank], police, tuple(sorted(signals)), review and not police)


def findings(pm: pluggy.PluginManager, tip: TipDraft) -> frozenset[str]:
    """Every plugin's concept names for ``tip`` (``workflow.concept``), for the votes that weigh them."""
    return frozenset(name for batch in pm.hook.tipline_findings(tip=tip) for name in batch)


def triage(pm: pluggy.PluginManager, tip: TipDraft) -> Triage:
    return merge_votes(pm.hook.tipline_triage(tip=tip, findings=findings(pm, tip)))


def route(pm: pluggy.PluginManager, tip: TipDraft, result: Triage, context: RouteContext) -> list[RouteAction]:
    seen: set[tuple[str, str]] = set()
    actions: list[RouteAction] = []
    for batch in pm.hook.tipline_route(tip=tip, triage=result, context=context):
        for action in batch:
            if (action.kind, action.target) not in seen:
                seen.add((action.kind, action.target))
                actions.append(action)
    return actions


def deliver(pm: pluggy.PluginManager, delivery: OutgoingDelivery) -> bool:
    result = pm.hook.tipline_deliver(delivery=delivery)
    if result is None:
        raise PluginError(f"no plugin delivers channel {delivery.channel!r}")
    return bool(result)


def delivery_channels(pm: pluggy.PluginManager) -> frozenset[str]:
    """The channels the loaded delivery plugins say they send."""
    return frozenset(str(c) for batch in pm.hook.tipline_delivery_channels() for c in batch)


def tip_received(pm: pluggy.PluginManager, tip_id: str, result: Triage, received_at: datetime) -> None:
    pm.hook.tipline_tip_received(tip_id=tip_id, triage=result, received_at=received_at)


def status_changed(pm: pluggy.PluginManager, tip_id: str, old: str, new: str, actor: str) -> None:
    pm.hook.tipline_status_changed(tip_id=tip_id, old=old, new=new, actor=actor)
