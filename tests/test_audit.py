"""The audit log: hash chain, tamper detection, the ``audit verify`` command, concurrent appends.

Runs on SQLite by default and on PostgreSQL when TIPLINE_TEST_DATABASE_URL is set.

What a hash chain can and cannot show: editing, removing, inserting or reordering any entry
that has a later entry is detected. Cutting entries off the *end* is not (the shorter log is
still a valid chain); an anchor (the last hash printed by an earlier verify, kept outside the
database) is what catches that, and the tests below show both halves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete, event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tipline import audit
from tipline.audit import GENESIS, AuditError, audit_command, entry_hash, record, verify
from tipline.models import AuditEntry
from tipline.orm import make_engine

ACTIONS = sorted(audit.ACTIONS)
SECRET = "audit-test-secret-" + "y" * 40


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def append(factory: sessionmaker[Session], count: int, per_transaction: int = 1) -> list[int]:
    ids: list[int] = []
    done = 0
    while done < count:
        with factory() as session, session.begin():
            for _ in range(min(per_transaction, count - done)):
                n = done
                entry = record(session, f"staff{n % 3}@district.example", ACTIONS[n % len(ACTIONS)],
                               tip_id=f"{n:032x}" if n % 2 else None,
                               count=n, fields=["status", "outcome"], old="new", new="in_review",
                               nested={"ñame": "equipo", "ids": (n, n + 1)})
                ids.append(entry.id)
                done += 1
    return ids


def rows(factory: sessionmaker[Session]) -> list[AuditEntry]:
    with factory() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def check(factory: sessionmaker[Session], anchor: str | None = None,
          batch_size: int = audit.VERIFY_BATCH) -> audit.VerifyResult:
    with factory() as session:
        return verify(session, anchor=anchor, batch_size=batch_size)


def cli_env(db_url: str, instance: Path) -> dict[str, str | None]:
    # On PostgreSQL db_url carries the test schema as ?options=-csearch_path%3D...: pass it whole.
    return {"TIPLINE_DATABASE_URL": db_url, "TIPLINE_SECRET_KEY": SECRET, "TIPLINE_INSTANCE": str(instance),
            "TIPLINE_CONFIG": None}


# --- the chain ----------------------------------------------------------------------------------


def test_chain_verifies_after_many_appends(factory: sessionmaker[Session]) -> None:
    ids = append(factory, 120, per_transaction=1) + append(factory, 130, per_transaction=13)
    assert ids == sorted(ids) and len(set(ids)) == 250

    entries = rows(factory)
    assert len(entries) == 250
    assert entries[0].prev_hash == GENESIS
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    for e in entries:
        assert e.hash == entry_hash(e.prev_hash, e.at, e.actor, e.action, e.tip_id, e.detail)
        assert e.at.microsecond == 0 and e.at.utcoffset() == timedelta(0)
    # tuples come back as lists and the hash covers what was stored
    assert entries[0].detail["nested"] == {"ñame": "equipo", "ids": [0, 1]}

    for batch_size in (1, 7, 250, 1000):
        result = check(factory, batch_size=batch_size)
        assert result.ok, result.problem
        assert result.checked == 250
        assert result.first_bad_id is None
        assert result.last_id == entries[-1].id and result.last_hash == entries[-1].hash


def test_empty_log_verifies(factory: sessionmaker[Session]) -> None:
    result = check(factory)
    assert result.ok and result.checked == 0 and result.last_hash is None


def test_hash_is_sha256_over_canonical_json() -> None:
    import hashlib
    import json

    at = datetime(2026, 3, 2, 14, 5, 9, tzinfo=UTC)
    expected = hashlib.sha256(json.dumps(
        [GENESIS, "2026-03-02T14:05:09Z", "a@x.org", "view_tip", "t1", {"a": 1, "b": [2]}],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    assert entry_hash(GENESIS, at, "a@x.org", "view_tip", "t1", {"b": [2], "a": 1}) == expected
    # every input is covered
    base = entry_hash(GENESIS, at, "a@x.org", "view_tip", "t1", {"a": 1})
    assert base != entry_hash("1" * 64, at, "a@x.org", "view_tip", "t1", {"a": 1})
    assert base != entry_hash(GENESIS, at.replace(second=10), "a@x.org", "view_tip", "t1", {"a": 1})
    assert base != entry_hash(GENESIS, at, "b@x.org", "view_tip", "t1", {"a": 1})
    assert base != entry_hash(GENESIS, at, "a@x.org", "decrypt", "t1", {"a": 1})
    assert base != entry_hash(GENESIS, at, "a@x.org", "view_tip", "t2", {"a": 1})
    assert base != entry_hash(GENESIS, at, "a@x.org", "view_tip", None, {"a": 1})
    assert base != entry_hash(GENESIS, at, "a@x.org", "view_tip", "t1", {"a": 2})


def test_record_refuses_what_the_log_must_not_hold(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        with pytest.raises(AuditError, match="unknown audit action"):
            record(session, "a@x.org", "read_everything")
        with pytest.raises(AuditError, match="someone's words"):
            record(session, "a@x.org", "note_added", tip_id="t", text="he said he would bring a gun")
        with pytest.raises(AuditError, match="someone's words"):
            record(session, "a@x.org", "step_recorded", tip_id="t", changes={"Message": "x"})
        with pytest.raises(AuditError, match="never tip text"):
            record(session, "a@x.org", "status_changed", tip_id="t", old="new", new="x" * 500)
        with pytest.raises(AuditError, match="cannot be stored"):
            record(session, "a@x.org", "export", when=datetime.now(UTC))
        with pytest.raises(AuditError, match="actor"):
            record(session, "", "logout")
    assert rows(factory) == []


# --- tampering ----------------------------------------------------------------------------------

TAMPER = {
    "at": datetime(2020, 1, 1, tzinfo=UTC),
    "actor": "someone.else@district.example",
    "action": "logout",
    "tip_id": "f" * 32,
    "detail": {"count": 999},
    "prev_hash": "1" * 64,
    "hash": "2" * 64,
}


@pytest.mark.parametrize("field", sorted(TAMPER))
def test_editing_any_field_of_a_middle_entry_is_detected(factory: sessionmaker[Session], field: str,
                                                         db_url: str, instance: Path) -> None:
    ids = append(factory, 10)
    middle = ids[4]
    with factory() as session, session.begin():
        changed = session.execute(update(AuditEntry).where(AuditEntry.id == middle).values({field: TAMPER[field]}))
        assert changed.rowcount == 1  # type: ignore[attr-defined]

    result = check(factory, batch_size=3)
    assert not result.ok
    assert result.first_bad_id == middle
    assert result.checked == 4
    assert "edited" in result.problem

    runner = CliRunner()
    out = runner.invoke(audit_command, ["verify"], env=cli_env(db_url, instance))
    assert out.exit_code == 1, out.output
    assert f"audit log BROKEN at entry {middle}: " in out.stderr
    assert "OK" not in out.stdout


def test_cli_reports_ok_and_the_last_hash(factory: sessionmaker[Session], db_url: str, instance: Path) -> None:
    ids = append(factory, 12)
    last = rows(factory)[-1]
    out = CliRunner().invoke(audit_command, ["verify"], env=cli_env(db_url, instance))
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines() == ["audit log OK: 12 entries", f"last entry {ids[-1]}: {last.hash}"]
    assert out.stderr == ""


def test_rewritten_entry_with_recomputed_hash_breaks_the_next_link(factory: sessionmaker[Session]) -> None:
    ids = append(factory, 10)
    middle = ids[4]
    with factory() as session, session.begin():
        e = session.get(AuditEntry, middle)
        assert e is not None
        forged = {"count": 0}
        new_hash = entry_hash(e.prev_hash, e.at, e.actor, e.action, e.tip_id, forged)
        session.execute(update(AuditEntry).where(AuditEntry.id == middle).values(detail=forged, hash=new_hash))
    result = check(factory)
    assert not result.ok
    assert result.first_bad_id == ids[5]
    assert f"does not follow entry {middle}" in result.problem


def test_deleting_a_middle_entry_is_detected(factory: sessionmaker[Session], db_url: str, instance: Path) -> None:
    ids = append(factory, 10)
    with factory() as session, session.begin():
        session.execute(delete(AuditEntry).where(AuditEntry.id == ids[5]))
    result = check(factory)
    assert not result.ok
    assert result.first_bad_id == ids[6]
    assert f"does not follow entry {ids[4]}" in result.problem
    assert "removed" in result.problem

    out = CliRunner().invoke(audit_command, ["verify"], env=cli_env(db_url, instance))
    assert out.exit_code == 1
    assert f"audit log BROKEN at entry {ids[6]}: " in out.stderr


def test_deleting_the_first_entry_is_detected(factory: sessionmaker[Session]) -> None:
    ids = append(factory, 5)
    with factory() as session, session.begin():
        session.execute(delete(AuditEntry).where(AuditEntry.id == ids[0]))
    result = check(factory)
    assert not result.ok
    assert result.first_bad_id == ids[1]
    assert "start of the log" in result.problem


def test_reordering_entries_is_detected(factory: sessionmaker[Session]) -> None:
    ids = append(factory, 8)
    a, b = ids[2], ids[5]
    with factory() as session, session.begin():
        # swap the two rows' positions (ids), leaving each row's own content and hash intact
        session.execute(update(AuditEntry).where(AuditEntry.id == a).values(id=-1))
        session.execute(update(AuditEntry).where(AuditEntry.id == b).values(id=a))
        session.execute(update(AuditEntry).where(AuditEntry.id == -1).values(id=b))
    result = check(factory)
    assert not result.ok
    assert result.first_bad_id == a
    assert "does not follow" in result.problem


def test_inserted_entry_is_detected(factory: sessionmaker[Session]) -> None:
    append(factory, 6)
    with factory() as session, session.begin():
        # make room between the 3rd and 4th entries, then slip a well-formed entry in
        for old in range(6, 3, -1):
            session.execute(update(AuditEntry).where(AuditEntry.id == old).values(id=old + 100))
        third = session.get(AuditEntry, 3)
        assert third is not None
        at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        forged_hash = entry_hash(third.hash, at, "intruder", "grant", None, {"staff_id": 9})
        session.add(AuditEntry(id=50, at=at, actor="intruder", action="grant", tip_id=None,
                               detail={"staff_id": 9}, prev_hash=third.hash, hash=forged_hash))
    result = check(factory)
    assert not result.ok
    assert result.first_bad_id == 104  # the entry after the forged one no longer links
    assert "does not follow entry 50" in result.problem


def test_gaps_in_ids_are_fine_while_the_links_hold(factory: sessionmaker[Session]) -> None:
    append(factory, 3)
    # a rolled-back append (on PostgreSQL it uses up a sequence value, leaving a gap)
    with factory() as session, session.begin():
        record(session, "a@x.org", "view_tip")
        session.rollback()
    append(factory, 3)
    with factory() as session, session.begin():
        # spread every id out: the order, and so every link, stays the same
        session.execute(update(AuditEntry).values(id=AuditEntry.id * 10))
    entries = rows(factory)
    assert len(entries) == 6 and all(e.id % 10 == 0 for e in entries)
    result = check(factory, batch_size=4)
    assert result.ok, result.problem
    assert result.checked == 6


def test_truncated_tail_needs_an_anchor(factory: sessionmaker[Session], db_url: str, instance: Path) -> None:
    append(factory, 10)
    head = check(factory)
    assert head.ok and head.last_hash is not None
    anchor = head.last_hash
    assert check(factory, anchor=anchor).ok

    with factory() as session, session.begin():
        session.execute(delete(AuditEntry).where(AuditEntry.id == head.last_id))

    # A chain alone cannot see that its end is gone: what remains is a valid, shorter chain.
    alone = check(factory)
    assert alone.ok
    assert alone.checked == 9
    # With the hash printed by an earlier verify, the cut is found.
    anchored = check(factory, anchor=anchor)
    assert not anchored.ok
    assert anchored.checked == 9
    assert "missing" in anchored.problem

    env = cli_env(db_url, instance)
    assert CliRunner().invoke(audit_command, ["verify"], env=env).exit_code == 0
    out = CliRunner().invoke(audit_command, ["verify", "--anchor", anchor], env=env)
    assert out.exit_code == 1
    assert out.stderr.startswith("audit log BROKEN: the anchored entry")


# --- concurrency --------------------------------------------------------------------------------


def test_concurrent_appends_keep_one_chain(factory: sessionmaker[Session]) -> None:
    per_thread = 40
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with factory() as session, session.begin():
                    record(session, name, "view_tip", tip_id=f"{n:032x}", n=n)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"writer{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []

    entries = rows(factory)
    assert len(entries) == 2 * per_thread
    assert {e.actor for e in entries} == {"writer0", "writer1"}
    # no fork: every entry links to a different predecessor
    assert len({e.prev_hash for e in entries}) == 2 * per_thread
    result = check(factory, batch_size=9)
    assert result.ok, result.problem
    assert result.checked == 2 * per_thread


def test_an_append_waits_for_the_open_one_before_reading_the_last_hash(engine: Engine,
                                                                      factory: sessionmaker[Session]) -> None:
    """Deterministic form of the race: while A's append is uncommitted, B cannot even read the
    last hash (it would read a stale one and fork the chain); it must wait for A."""
    append(factory, 2)
    statements: list[str] = []
    first = factory()
    second = factory()
    try:
        first.begin()
        record(first, "a", "view_tip")
        second.begin()
        conn = second.connection()
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA busy_timeout = 0")  # fail at once instead of waiting
        else:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '20ms'")

        @event.listens_for(conn, "before_cursor_execute")
        def _seen(_c: object, _cur: object, statement: str, *_args: object) -> None:
            statements.append(statement)

        with pytest.raises(OperationalError):
            record(second, "b", "view_tip")
        assert statements, "B tried to take the chain lock"
        assert not any("audit_entry.hash" in s for s in statements), "B read the last hash without the lock"
        second.rollback()
        first.commit()
        # once A has committed, B appends after it
        second.begin()
        b = record(second, "b", "view_tip")
        second.commit()
    finally:
        first.close()
        second.close()
    entries = rows(factory)
    assert [e.actor for e in entries[-2:]] == ["a", "b"]
    assert b.prev_hash == entries[-2].hash
    assert check(factory).ok


def test_the_unique_hash_is_a_backstop(factory: sessionmaker[Session]) -> None:
    append(factory, 1)
    first = rows(factory)[0]
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), factory() as session, session.begin():
        session.add(AuditEntry(at=first.at, actor=first.actor, action=first.action, tip_id=first.tip_id,
                               detail=first.detail, prev_hash=first.prev_hash, hash=first.hash))
    assert len(rows(factory)) == 1


def test_cli_needs_configuration(tmp_path: Path) -> None:
    out = CliRunner().invoke(audit_command, ["verify"], env={"TIPLINE_DATABASE_URL": "mysql://x",
                                                             "TIPLINE_SECRET_KEY": SECRET,
                                                             "TIPLINE_INSTANCE": str(tmp_path)})
    assert out.exit_code != 0
    assert "TIPLINE_DATABASE_URL" in out.output
