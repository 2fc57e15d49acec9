"""A wheel built from the project runs on its own: installed (with its dependencies, from the
configured package index) into a fresh virtualenv, away from the checkout, `tipline init` sets
up an instance and gunicorn serves the reporter form, its stylesheet and the console."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from servers import free_port

ROOT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(".git", ".venv", "instance", "worker-keys", "build", "dist", "*.egg-info",
                              "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", "bench", "tests")


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[:3]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_built_wheel_installs_into_a_fresh_virtualenv_and_serves(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=SKIP)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", tmp_path / "dist", source, cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("tipline-*.whl")
    shutil.rmtree(source)  # nothing of the checkout is left to lean on

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", wheel, cwd=tmp_path)

    site = tmp_path / "site"
    site.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIPLINE_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PORT=str(free_port()), HOME=str(tmp_path), WEB_CONCURRENCY="1")
    where = run(python, "-c", "import tipline, plugins; print(tipline.__file__); print(plugins.__file__)", cwd=site,
                env=env)
    assert all(line.startswith(str(venv)) for line in where.split()), where
    out = run(venv / "bin" / "tipline", "init", cwd=site, env=env)
    assert "Database ready" in out and "/console/setup/" in out
    assert (site / "instance" / "tipline.db").exists()

    log = tmp_path / "server.log"
    with open(log, "wb") as sink:
        server = subprocess.Popen([str(venv / "bin" / "gunicorn"), "-b", f"127.0.0.1:{env['PORT']}",
                                   "tipline.app:create_app()"], cwd=site, env=env, stdout=sink,
                                  stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{env['PORT']}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(base + "/", timeout=5) as response:
                        form = response.read().decode()
                        assert response.status == 200
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise AssertionError(log.read_text()) from None
                    time.sleep(0.05)  # polling readiness, not waiting for a fixed time
            assert 'name="message"' in form and "988" in form
            with urllib.request.urlopen(base + "/static/style.css", timeout=5) as response:
                assert response.status == 200 and b"{" in response.read()
            with urllib.request.urlopen(base + "/console/login", timeout=5) as response:
                assert response.status == 200 and 'name="password"' in response.read().decode()
        finally:
            server.terminate()
            server.wait(timeout=20)
