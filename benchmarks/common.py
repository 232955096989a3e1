"""Helpers shared by the benchmarks: percentiles, a result table, JSON output, a prepared catalog, a free
port for a `catalog serve` and a wait until it is ready."""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarize(latencies_ms: list[float], seconds: float) -> dict:
    return {"n": len(latencies_ms), "p50_ms": round(percentile(latencies_ms, 50), 2),
            "p95_ms": round(percentile(latencies_ms, 95), 2), "p99_ms": round(percentile(latencies_ms, 99), 2),
            "mean_ms": round(statistics.fmean(latencies_ms), 2) if latencies_ms else None,
            "per_s": round(len(latencies_ms) / seconds, 1) if seconds else None}


def print_table(title: str, rows: list[dict], columns: list[str]) -> None:
    print(f"\n{title}")
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)))


def _cpuinfo(field: str) -> str | None:
    """The first value of `field` in /proc/cpuinfo (None where there is none)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.split(":", 1)[0].strip() == field), None)


def cpu_model() -> str:
    """The processor's name. Figures taken on another CPU are not comparable: three CPUs of these machines ran
    the same search at 60.8 to 168.5 req/s (benchmarks/NOTES.md sections 11, 13 and 15). The name alone does
    not tell them apart, so `vector_isa` is recorded beside it."""
    return _cpuinfo("model name") or platform.processor() or "unknown"


def vector_isa() -> str:
    """The widest vector instructions the CPU has, as the matrix kernels see them."""
    flags = _cpuinfo("flags")
    if flags is None:
        return "unknown"
    have = set(flags.split())
    return next((isa for isa in ("amx_bf16", "avx512_bf16", "avx512_vnni", "avx512f", "avx2") if isa in have),
                "none")


def write_json(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"machine": {"cpus": os.cpu_count(), "cpu": cpu_model(), "vector_isa": vector_isa(),
                           "python": platform.python_version()},
               "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **payload}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {path}")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a `catalog serve --port`)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A benchmark measures the service, not the rate limiter: its key's own limit is far above what it sends.
BENCH_RATE = "1000000/s"


def bench_key(env: dict, store: str, scope: str = "admin") -> str:
    """A new API key of `store` in the CATALOG_HOME of `env` (`catalog keys create`: the key is its last line)."""
    catalog = str(Path(sys.executable).with_name("catalog"))
    made = subprocess.run([catalog, "keys", "create", "--store", store, "--scope", scope, "--rate", BENCH_RATE,
                           "--name", "benchmark"], env=env, check=True, capture_output=True, text=True)
    return made.stdout.strip().splitlines()[-1]


def wait_ready(base: str, limit_s: float = 300) -> None:
    """Until `catalog serve` at `base` answers /readyz 200 (warm, the change log applied); exits after limit_s."""
    import httpx

    deadline = time.time() + limit_s
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server at {base} not ready after {limit_s} s")


def embedding_rows(home: Path) -> int:
    """Vectors in the SQLite store's embedding cache of `home`: each one was computed once."""
    import sqlite3

    with sqlite3.connect(Path(home) / "catalog.db") as db:
        return db.execute("select count(*) from embeddings").fetchone()[0]


def home_env(home: Path) -> dict:
    """This process's environment with CATALOG_HOME set to `home` and its SQLite store (no DATABASE_URL)."""
    env = {**os.environ, "CATALOG_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    return env


def start_serve(env: dict) -> tuple[subprocess.Popen, str]:
    """`catalog serve` in `env` (`home_env`) on a free loopback port, not yet ready (`wait_ready`): the process
    and its base URL."""
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("catalog")), "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return server, f"http://127.0.0.1:{port}"
