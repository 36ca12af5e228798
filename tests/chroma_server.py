"""A real `chroma run` for tests: 127.0.0.1, a free port, its own data folder.

    with chroma_server(tmp_path / "chroma") as server:
        env = server.env  # RAG_CHROMA_HOST / RAG_CHROMA_PORT for subprocesses

The server is waited for through its heartbeat (`/api/v2/heartbeat`) and stopped at
the end, killed if it does not exit; a server that dies or never answers fails the test
with its log (tests/servers.py).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port, stop, wait_until_up


@dataclass(frozen=True)
class ChromaServer:
    port: int
    data: Path  # the server's --path
    log: Path
    host: str = "127.0.0.1"

    @property
    def env(self) -> dict[str, str]:
        """The product's settings for this server, as environment variables."""
        return {"RAG_CHROMA_HOST": self.host, "RAG_CHROMA_PORT": str(self.port)}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def chroma_cli() -> Path:
    """The `chroma` command installed beside this interpreter (skips the test without it)."""
    cli = Path(sys.executable).parent / "chroma"
    if not cli.exists():
        pytest.skip(f"the chroma CLI is not installed beside {sys.executable}")
    return cli


@contextlib.contextmanager
def chroma_server(folder: Path, timeout: float = 60) -> Iterator[ChromaServer]:
    """Run `chroma run` with its data in `folder`/data until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    server = ChromaServer(port=free_port(), data=folder / "data", log=folder / "chroma.log")
    with open(server.log, "wb") as out:
        proc = subprocess.Popen(
            [str(chroma_cli()), "run", "--host", server.host, "--port", str(server.port),
             "--path", str(server.data)],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_up(
            proc, f"{server.url}/api/v2/heartbeat", name="chroma run", log=server.log,
            timeout=timeout,
        )  # fmt: skip
        yield server
    finally:
        stop(proc)
