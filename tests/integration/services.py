"""Servers of a test's own, which it may stop and start at will: a RabbitMQ node, a Redis server and a PostgreSQL
cluster, each on free ports with its data under the test's temporary directory. The machine's shared servers
(5672, 6379, 5432) are never touched: a fault test restarts only what it started.

Each `start()` waits until the server accepts connections; `stop()` is a clean shutdown that keeps the data,
so a start afterwards is a restart with the same queues, messages and tables."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

from tests.integration.stack import free_port

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")  # the scripts themselves: /usr/sbin's wrappers switch user
PG_BIN_DIRS = (Path("/usr/local/bin"), *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))


def wait_port(port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{what} did not accept connections on port {port} within {timeout:.0f}s")


def _log_tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


class RabbitNode:
    """A `rabbitmq-server` node named h16-<random>@localhost, with its own ports, data, logs and Erlang cookie
    (its own HOME), no plugins, and no config of the machine's node."""

    @staticmethod
    def missing() -> str | None:
        if not (RABBITMQ_BIN / "rabbitmq-server").exists() or not shutil.which("erl"):
            return f"no rabbitmq-server under {RABBITMQ_BIN} (Debian package rabbitmq-server)"
        return None

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port, self.dist_port = free_port(), free_port()
        self.name = f"h16-{uuid.uuid4().hex[:8]}@localhost"
        for sub in ("home", "mnesia", "log"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "enabled_plugins").write_text("[].\n")
        (root / "rabbitmq.conf").write_text(f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
                                            "log.console = false\nlog.file.level = warning\n")
        (root / "rabbitmq-env.conf").write_text("")
        self.env = {**os.environ, "HOME": str(root / "home"), "RABBITMQ_NODENAME": self.name,
                    "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
                    "RABBITMQ_LOG_BASE": str(root / "log"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
                    "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
                    "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),
                    "RABBITMQ_PID_FILE": str(root / "node.pid")}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self, timeout: float = 90) -> RabbitNode:
        out = open(self.root / "server.out", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen([str(RABBITMQ_BIN / "rabbitmq-server")], env=self.env, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_port(self.port, timeout, f"RabbitMQ node {self.name}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{_log_tail(self.root / 'server.out')}") from None
        return self

    def stop(self) -> None:
        """`rabbitmqctl stop`: the node shuts down cleanly (durable queues and persistent messages stay)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.name, "stop"], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(10)

    def close(self) -> None:
        """Teardown: stop, and end any leftover of the node's process group."""
        try:
            self.stop()
        finally:
            if self.proc is not None:
                try:
                    os.killpg(self.proc.pid, 9)
                except ProcessLookupError:
                    pass


class RedisServer:
    """A `redis-server` on a free port with an append-only file in its own directory (a restart keeps the
    queues, as the compose file's Redis does)."""

    @staticmethod
    def missing() -> str | None:
        return None if shutil.which("redis-server") else "no redis-server binary"

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30) -> RedisServer:
        self.proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--dir", str(self.root), "--appendonly", "yes", "--save", ""],
                                     stdout=open(self.root / "server.out", "ab"),  # noqa: SIM115
                                     stderr=subprocess.STDOUT)
        wait_port(self.port, timeout, "redis-server")
        return self

    def stop(self) -> None:
        """SIGTERM: Redis flushes its append-only file and exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)

    close = stop


class PostgresCluster:
    """`initdb` in a directory of the test's own and a `postgres` on a free port (trust auth, 127.0.0.1 only).
    As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root)."""

    @staticmethod
    def bin(name: str) -> Path | None:
        return next((d / name for d in PG_BIN_DIRS if (d / name).exists()), None)

    @classmethod
    def missing(cls) -> str | None:
        if cls.bin("initdb") is None or cls.bin("pg_ctl") is None:
            return "no PostgreSQL server binaries (initdb, pg_ctl)"
        if os.geteuid() == 0 and not shutil.which("runuser"):
            return "running as root without runuser: cannot start PostgreSQL as another user"
        return None

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        else:
            self._as = []
        self._run(str(self.bin("initdb")), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"{args[0]} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresCluster:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} -c fsync=off"
        self._run(str(self.bin("pg_ctl")), "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options,
                  "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        """`pg_ctl stop -m fast`: open connections are cut, as in a server restart."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin("pg_ctl")), "-D", str(self.data), "-m", "fast", "-w", "stop")

    close = stop
