"""How fast the tip line takes tips, next to a bare Flask app under the same gunicorn settings.

    .venv/bin/python bench/submit.py [--seconds 15] [--clients 8] [--rounds 3]

Starts gunicorn (gunicorn.conf.py, free loopback ports) for both apps, the tip line in a fresh
instance folder, polls until they answer, then runs N client threads against each for a fixed
time, in alternating slices so a busy machine weighs on both alike. Each client does
what a phone's browser does: GET / (keeping the session cookie), read the CSRF token, POST the
multipart form (varying message, category and school) and check for the receipt code.

Prints submissions/s and POST latency (p50/p99) for both, the ratio tip line / bare (target
>= 0.5), the peak RSS of a tip line worker (VmHWM from /proc, target <= 150 MB), and checks
that the database holds exactly one tip per receipt a client saw. Exits 1 when a submission
failed or the count differs; with --enforce-targets also when a target is missed.

The rate limiter is switched off for the tip line (TIPLINE_RATE_LIMITS=off): every client
here shares one address, which the limiter would rightly slow down.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from types import FrameType
from typing import BinaryIO

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent  # the venv's bin: not resolved, so a symlinked python still finds it
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
READY_SECONDS = 60.0
REQUEST_TIMEOUT = 30.0
TARGET_RATIO = 0.5
TARGET_RSS_MB = 150.0
# Settings that would point the tip line at another database, key or limiter store.
ISOLATE = ("TIPLINE_DATABASE_URL", "TIPLINE_SECRET_KEY", "TIPLINE_REDIS_URL", "TIPLINE_INSTANCE")

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OPTION = re.compile(r'<option value="([^"]+)"')
CATEGORY = re.compile(r'name="category" value="([^"]+)"')
RECEIPT = re.compile(r'<code id="receipt-code">([^<]+)</code>')

WHO = ("a boy in 8th grade", "some kids from the soccer team", "an older student", "my friend",
       "someone in my homeroom", "un chico de mi clase", "unas chicas de noveno")
WHAT = ("keeps posting mean edits of a girl in the group chat", "said he would bring a knife on Friday",
        "has been cutting herself and told me not to tell", "wrote slurs on the bathroom wall",
        "is taking money from younger kids at the bus stop", "me dijo que no quiere vivir más",
        "escribió insultos racistas en el chat del grupo", "shared a private photo of a student")
WHERE = ("after lunch", "in the east stairwell", "on the late bus", "on Instagram last night",
         "en el gimnasio", "behind the portables", "during 3rd period")


@dataclass
class Tally:
    post_ms: list[float] = field(default_factory=list)
    get_ms: list[float] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, other: Tally) -> None:
        with self.lock:
            self.post_ms += other.post_ms
            self.get_ms += other.get_ms
            self.receipts += other.receipts
            self.failures.update(other.failures)


@dataclass
class Figures:
    name: str
    seconds: float
    tally: Tally
    peak_rss_mb: float
    start_rss_mb: float

    @property
    def rate(self) -> float:
        return len(self.tally.receipts) / self.seconds

    def percentile(self, values: list[float], q: int) -> float:
        if len(values) < 2:
            return values[0] if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class ServerFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def script(name: str) -> list[str]:
    path = BIN / name
    if not path.exists():
        raise SystemExit(f"{path} is missing: run this with the project's venv python (make install)")
    return [str(path)]


class Gunicorn:
    """One gunicorn master serving ``target`` from ``cwd``; stopped by its own process id."""

    def __init__(self, name: str, target: str, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.name, self.target, self.cwd, self.log_path = name, target, cwd, log
        self.port = free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    def start(self) -> None:
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [*script("gunicorn"), "-c", str(GUNICORN_CONF), self.target],
            cwd=self.cwd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )

    def wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/")
                if conn.getresponse().status == 200 and len(self.workers()) >= 1:
                    return
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            # Paces the poll and notices a server that gave up at the same time.
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=0.05)
            if self.proc.poll() is not None:
                raise ServerFailed(f"{self.name}: gunicorn exited with {self.proc.returncode}\n{self.log_tail()}")
        raise ServerFailed(f"{self.name}: no answer on port {self.port} in {READY_SECONDS:.0f} s\n{self.log_tail()}")

    def workers(self) -> list[int]:
        """The master's child processes (the workers), read from /proc."""
        assert self.proc is not None
        pids: list[int] = []
        for children in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            with suppress(OSError):
                pids += [int(p) for p in children.read_text().split()]
        return pids

    def rss_kb(self, field: str = "VmHWM") -> int:
        """The largest ``field`` (VmHWM: peak resident set; VmRSS: current) among the workers."""
        largest = 0
        for pid in self.workers():
            with suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(field + ":"):
                        largest = max(largest, int(line.split()[1]))
        return largest

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # gunicorn: graceful stop of master and workers
            try:
                self.proc.wait(timeout=35)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        if self._log is not None:
            self._log.flush()
        with suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


@contextmanager
def running(server: Gunicorn) -> Iterator[Gunicorn]:
    try:
        server.start()
        server.wait_ready()
        yield server
    finally:
        server.stop()


class RssSampler(threading.Thread):
    """Keeps the highest worker VmHWM seen, in case a worker is replaced during the run."""

    def __init__(self, server: Gunicorn) -> None:
        super().__init__(daemon=True)
        self.server, self.peak_kb, self.done = server, 0, threading.Event()
        self.start_kb = server.rss_kb("VmRSS")

    def run(self) -> None:
        while not self.done.is_set():
            self.peak_kb = max(self.peak_kb, self.server.rss_kb())
            self.done.wait(0.25)

    def finish(self) -> float:
        self.done.set()
        self.join(timeout=5)
        self.peak_kb = max(self.peak_kb, self.server.rss_kb())
        return self.peak_kb / 1024


def multipart(fields: list[tuple[str, str]], photo: bytes | None = None) -> tuple[bytes, str]:
    """The body a browser sends for the form: the file input empty, or carrying one photo."""
    boundary = "----TiplineBench" + uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                     .encode())
    if photo is None:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="attachment"; filename=""\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n\r\n".encode())
    else:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="attachment"; '
                     'filename="IMG_4031.JPG"\r\nContent-Type: image/jpeg\r\n\r\n'.encode() + photo + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def camera_photo() -> bytes:
    """A 12 MP phone photo of about 4 MB with EXIF and GPS, as the upload tests use."""
    sys.path.insert(0, str(ROOT / "tests"))
    import photos  # type: ignore[import-not-found]

    data: bytes = photos.camera_jpeg()
    return data


def message(rng: random.Random) -> str:
    return (f"{rng.choice(WHO).capitalize()} {rng.choice(WHAT)} {rng.choice(WHERE)}.\n"
            f"It has happened {rng.randint(2, 9)} times. Ref {rng.getrandbits(32):08x}.")


class Reporter:
    """One phone: a keep-alive connection; a fresh session (cookies) for every tip."""

    def __init__(self, port: int, seed: int, photo: bytes | None = None) -> None:
        self.port, self.rng, self.photo = port, random.Random(seed), photo
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, body: bytes | None = None, content_type: str | None = None
                ) -> tuple[int, str, float]:
        headers = {"User-Agent": "Mozilla/5.0 (tipline bench)", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        start = time.perf_counter()
        self.conn.request(method, "/", body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        elapsed = (time.perf_counter() - start) * 1000
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            self.cookies.update({k: m.value for k, m in jar.items()})
        return response.status, text, elapsed

    def one_tip(self, tally: Tally, needs_csrf: bool) -> None:
        self.cookies = {}
        status, page, ms = self.request("GET")
        tally.get_ms.append(ms)
        if status != 200:
            tally.failures[f"GET {status}"] += 1
            return
        token = CSRF.search(page)
        if needs_csrf and token is None:
            tally.failures["no csrf_token on the form"] += 1
            return
        fields = [("csrf_token", token.group(1))] if token else []
        fields += [("category", self.rng.choice(CATEGORY.findall(page) or ["unsure"])),
                   ("school", self.rng.choice(OPTION.findall(page) or ["outside"])),
                   ("message", message(self.rng)), ("contact", ""), ("website", "")]
        body, content_type = multipart(fields, self.photo)
        status, page, ms = self.request("POST", body, content_type)
        match = RECEIPT.search(page)
        if status == 200 and match:
            tally.post_ms.append(ms)
            tally.receipts.append(match.group(1))
        else:
            tally.failures[f"POST {status}" + ("" if status != 200 else " without a receipt")] += 1

    def run(self, deadline: float, tally: Tally, needs_csrf: bool) -> None:
        mine = Tally()
        try:
            while time.monotonic() < deadline:
                try:
                    self.one_tip(mine, needs_csrf)
                except (OSError, http.client.HTTPException) as exc:
                    mine.failures[type(exc).__name__] += 1
                    self.conn.close()  # the next request opens a new connection
        finally:
            self.conn.close()
            tally.add(mine)


PHOTO: bytes | None = None  # set by --photo: every tip then carries one camera photo


def load(server: Gunicorn, seconds: float, clients: int, needs_csrf: bool, seed: int) -> tuple[Tally, float]:
    tally = Tally()
    start = time.monotonic()
    deadline = start + seconds
    threads = [threading.Thread(target=Reporter(server.port, seed + i, PHOTO).run, args=(deadline, tally, needs_csrf),
                                name=f"reporter-{i}", daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + REQUEST_TIMEOUT + 5)
    if any(t.is_alive() for t in threads):
        raise RuntimeError(f"{server.name}: a client thread did not finish")
    return tally, time.monotonic() - start


@dataclass
class Contender:
    server: Gunicorn
    needs_csrf: bool
    tally: Tally = field(default_factory=Tally)
    warm: Tally = field(default_factory=Tally)
    elapsed: float = 0.0
    cpu: float = 0.0


def worker_cpu_seconds(server: Gunicorn) -> float:
    """User + system CPU time used so far by the server's worker processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in server.workers():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def measure(contenders: list[Contender], args: argparse.Namespace) -> list[Figures]:
    """Warm each up (counted for the database check only), then measure them in alternating slices.

    Both servers run throughout; slices go A B, B A, A B… so a neighbour's load on a shared
    machine falls on both alike instead of on whichever ran second.
    """
    for c in contenders:
        c.warm, _ = load(c.server, args.warmup, args.clients, c.needs_csrf, seed=args.seed + 1000)
    samplers = [RssSampler(c.server) for c in contenders]
    for sampler in samplers:
        sampler.start()
    try:
        for r in range(args.rounds):
            for c in contenders if r % 2 == 0 else contenders[::-1]:
                cpu_before = worker_cpu_seconds(c.server)
                tally, elapsed = load(c.server, args.seconds / args.rounds, args.clients, c.needs_csrf,
                                      seed=args.seed + 100 * r)
                c.cpu += worker_cpu_seconds(c.server) - cpu_before
                c.tally.add(tally)
                c.elapsed += elapsed
    finally:
        peaks = [sampler.finish() for sampler in samplers]
    for c in contenders:
        count = max(1, len(c.tally.receipts))
        print(f"{c.server.name:>8}: server CPU {c.cpu / count * 1000:.2f} ms per submission (GET + POST), "
              f"workers busy {c.cpu / max(c.elapsed, 1e-9):.2f} cores")
    return [Figures(c.server.name, c.elapsed, c.tally, peak, sampler.start_kb / 1024)
            for c, peak, sampler in zip(contenders, peaks, samplers, strict=True)]


def count_tips(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM tip").fetchone()[0])
    finally:
        conn.close()


def report(figures: Figures) -> None:
    t = figures.tally
    print(f"{figures.name:>8}: {figures.rate:8.1f} submissions/s   POST p50 {figures.percentile(t.post_ms, 50):7.1f} ms"
          f"   p99 {figures.percentile(t.post_ms, 99):7.1f} ms   GET p50 {figures.percentile(t.get_ms, 50):6.1f} ms"
          f"   ({len(t.receipts)} receipts, {sum(t.failures.values())} failed"
          f"{': ' + ', '.join(f'{k} x{v}' for k, v in t.failures.most_common()) if t.failures else ''})"
          f"   worker RSS {figures.start_rss_mb:.1f} MB after warm-up, peak {figures.peak_rss_mb:.1f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time per app (default 15)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured warm-up per app (default 2)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating measured slices per app (default 3)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance folder and logs")
    parser.add_argument("--enforce-targets", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--photo", action="store_true",
                        help="attach one 4 MB 12 MP camera photo (EXIF, GPS) to every tip")
    args = parser.parse_args(argv)
    global PHOTO
    if args.photo:
        PHOTO = camera_photo()
        print(f"every tip carries one camera photo of {len(PHOTO) / 1e6:.2f} MB")
    if (args.seconds <= 0 or args.seconds > 600 or not 1 <= args.clients <= 256 or not 0 <= args.warmup <= 60
            or not 1 <= args.rounds <= 20):
        parser.error("use 0 < --seconds <= 600, 1 <= --clients <= 256, 0 <= --warmup <= 60, 1 <= --rounds <= 20")

    def _terminated(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(143)  # so the finally blocks stop the servers

    signal.signal(signal.SIGTERM, _terminated)
    work = Path(tempfile.mkdtemp(prefix="tipline-bench-"))
    instance = work / "instance"
    env = {k: v for k, v in os.environ.items() if k not in ISOLATE}
    env.update(TIPLINE_INSTANCE=str(instance), TIPLINE_RATE_LIMITS="off", PYTHONUNBUFFERED="1")
    problems: list[str] = []
    try:
        init = subprocess.run([*script("tipline"), "init"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        if init.returncode != 0:
            print(f"`tipline init` failed ({init.returncode}):\n{init.stdout}{init.stderr}", file=sys.stderr)
            return 2
        print(f"{args.clients} clients, {args.seconds:g} s each in {args.rounds} alternating slices after "
              f"{args.warmup:g} s warm-up; "
              f"gunicorn {GUNICORN_CONF.name} (WEB_CONCURRENCY={env.get('WEB_CONCURRENCY', '2')}, "
              f"TIPLINE_THREADS={env.get('TIPLINE_THREADS', '4')}); instance {instance}")

        with running(Gunicorn("tipline", "wsgi:app", ROOT, env, work / "tipline.log")) as tip_server, \
                running(Gunicorn("bare", "bare_app:app", BENCH, env, work / "bare.log")) as bare_server:
            tip_side = Contender(tip_server, needs_csrf=True)
            tip, bare = measure([tip_side, Contender(bare_server, needs_csrf=True)], args)
        tip_warm = tip_side.warm
        # Both servers have stopped: every request they answered is finished.
        stored = count_tips(instance / "tipline.db")

        report(tip)
        report(bare)
        ratio = tip.rate / bare.rate if bare.rate else float("nan")
        print(f"   ratio: tipline/bare = {ratio:.2f} (target >= {TARGET_RATIO}) "
              f"{'PASS' if ratio >= TARGET_RATIO else 'MISS'}")
        print(f"     RSS: tipline worker peak {tip.peak_rss_mb:.1f} MB (target <= {TARGET_RSS_MB:g} MB) "
              f"{'PASS' if tip.peak_rss_mb <= TARGET_RSS_MB else 'MISS'}")
        seen = tip.tally.receipts + tip_warm.receipts
        print(f"      db: {stored} tips stored, {len(seen)} receipts seen by clients "
              f"{'(equal)' if stored == len(seen) else '(DIFFERENT)'}")

        if stored != len(seen):
            problems.append(f"the database holds {stored} tips but clients saw {len(seen)} receipts")
        if len(set(seen)) != len(seen):
            problems.append(f"{len(seen) - len(set(seen))} receipt codes were shown twice")
        for figures in (tip, bare):
            if not figures.tally.receipts:
                problems.append(f"{figures.name}: no submission succeeded")
            if figures.tally.failures:
                problems.append(f"{figures.name}: {sum(figures.tally.failures.values())} submissions failed")
        if tip_warm.failures:
            problems.append(f"tipline warm-up: {sum(tip_warm.failures.values())} submissions failed")
        if args.enforce_targets:
            if not ratio >= TARGET_RATIO:
                problems.append(f"throughput ratio {ratio:.2f} is below {TARGET_RATIO}")
            if tip.peak_rss_mb > TARGET_RSS_MB:
                problems.append(f"worker peak RSS {tip.peak_rss_mb:.1f} MB is above {TARGET_RSS_MB:g} MB")
    except ServerFailed as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
