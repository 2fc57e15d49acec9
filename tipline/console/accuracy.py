"""Triage against staff's final decision, by month: how a district measures triage on its own
reports. Labels and counts only, never a tip or its text; for admins."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import g, request
from sqlalchemy import select

from tipline import audit, corrections, db
from tipline.console import bp
from tipline.console.auth import admin_required, render, settings, workflows
from tipline.models import Tip, TipWorkflow

DEFAULT_MONTHS = 12
MAX_MONTHS = 60


@bp.get("/accuracy")
@admin_required
def accuracy() -> Any:
    raw = request.args.get("months", "")
    months = int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_MONTHS else DEFAULT_MONTHS
    zone = settings().district.timezone
    today = datetime.now(zone).date().replace(day=1)
    since = datetime.combine(today - timedelta(days=31 * (months - 1)), time(), zone).replace(day=1)
    session = db.session()
    tips = session.execute(corrections.counted(
        select(Tip.id, Tip.received_at, Tip.triage_original, Tip.police, Tip.corrected_at)
        .where(Tip.received_at >= since))).all()
    finals: dict[str, list[str]] = {}
    ids = [t.id for t in tips]
    for start in range(0, len(ids), 1000):
        for tip_id, wf in session.execute(select(TipWorkflow.tip_id, TipWorkflow.workflow)
                                          .where(TipWorkflow.tip_id.in_(ids[start:start + 1000]))):
            finals.setdefault(tip_id, []).append(wf)
    table = corrections.measure(((t.received_at, t.triage_original, finals.get(t.id, []), bool(t.police),
                                  t.corrected_at is not None) for t in tips), zone, sorted(workflows()))
    audit.record(session, g.staff.email, audit.VIEW_STATS, page="accuracy", months=months, tips=len(tips))
    session.commit()
    return render("console/accuracy.html", table=table, labels=[*sorted(workflows()), "police"],
                  titles={k: wf.title for k, wf in workflows().items()}, months=months)
