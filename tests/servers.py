"""Start and stop the real local servers the tests use (Chroma, llama.cpp, Streamlit).

Every server binds to 127.0.0.1 on a free port and is waited for through its own
health URL; a server that dies or does not come up fails the test with its log.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(
    proc: subprocess.Popen,
    url: str,
    *,
    name: str,
    log: Path | None = None,
    timeout: float = 60,
    ready: Callable[[bytes], bool] = lambda body: True,
) -> None:
    """Poll `url` until it answers 200 (and `ready(body)`); fail with the log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200 and ready(r.read()):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    stop(proc)
    pytest.fail(f"{name} did not come up within {timeout:.0f} s:\n{_tail(log)}")


APP = Path(__file__).resolve().parent.parent / "app.py"


def start_app(
    cwd: Path, env: dict, log: Path, *options: str, timeout: float = 60
) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` headless on a free 127.0.0.1 port, up and healthy: (process,
    URL). `options` are further Streamlit options; the output goes to `log`."""
    port = free_port()
    with Path(log).open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", str(APP),
                "--server.address", "127.0.0.1", "--server.port", str(port),
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--client.toolbarMode", "minimal", *options,
            ],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_until_up(
        proc, f"{url}/_stcore/health", name="streamlit", log=Path(log), timeout=timeout,
        ready=lambda body: body.strip() == b"ok",
    )  # fmt: skip
    return proc, url


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate a server, killing it if it does not exit in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tail(log: Path | None) -> str:
    if log is None or not Path(log).exists():
        return "(no log)"
    return Path(log).read_text(errors="replace")[-2000:]
