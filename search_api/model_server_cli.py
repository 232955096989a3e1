"""`catalog model-server`: a llama.cpp OpenAI-compatible server on the CPU, for EXTRACTOR_BACKEND=openai
and QUERY_PARSER=llm on a laptop without a GPU (see extractor.vlm.llama_server)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import typer


def _interrupt(_signum: int, _frame: object) -> None:
    """SIGTERM (docker stop, a test's terminate) stops the server like Ctrl-C, so the model is freed."""
    raise KeyboardInterrupt


def model_server_cmd(
    gguf: Path | None = typer.Option(None, "--gguf", help=(
        "the model file (GGUF); default: the packaged Gemma 3 270M, a base model that answers badly and "
        "only exercises the wire path and constrained decoding")),
    mmproj: Path | None = typer.Option(None, "--mmproj", help="a vision model's projector GGUF (image input)"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(23333, "--port", help="port (0: any free one); 23333 is EXTRACTOR_URL's default"),
    ctx_size: int = typer.Option(4096, "--ctx-size", help="context tokens per request slot"),
    parallel: int = typer.Option(2, "--parallel", help="request slots decoded together"),
    threads: int = typer.Option(-1, "--threads", help="CPU threads (-1: the physical cores; 1 on a busy machine)"),
    alias: str | None = typer.Option(None, "--alias", help="model name to serve (default: the file name)"),
    jinja: bool = typer.Option(False, "--jinja/--no-jinja", help=(
        "render chats with the model's Jinja template; llama.cpp then decodes under GBNF grammars instead "
        "of llguidance, several times slower inside enums")),
) -> None:
    """Serve a GGUF model over the OpenAI API (/v1/chat/completions, /v1/models) until interrupted."""
    import httpx

    from extractor.vlm.llama_server import LlamaServer, ModelServerError, ServerConfig, packaged_gguf
    from indexer.settings import get_settings

    try:
        if gguf is None:
            cache = get_settings().catalog_home / "models"
            typer.echo(f"no --gguf: using the packaged Gemma 3 270M (a base model, Gemma terms) from {cache}")
            gguf = packaged_gguf(cache)
        config = ServerConfig(gguf=gguf, mmproj=mmproj, host=host, port=port, ctx_size=ctx_size,
                              parallel=parallel, threads=threads, alias=alias, jinja=jinja)
        server = LlamaServer(config)
    except ModelServerError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        try:
            warm_s = server.warm_up()
        except httpx.HTTPError as exc:
            typer.secho(f"error: the model server does not answer: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(1) from None
        url = server.url
        typer.echo(f"model {config.model_name} warmed up in {warm_s:.1f} s")
        typer.echo(f"  EXTRACTOR_BACKEND=openai EXTRACTOR_URL={url}")
        typer.echo(f"  QUERY_PARSER=llm QUERY_PARSER_URL={url}")
        # Printed last and parsed by extractor.vlm.llama_server.model_server_process.
        typer.echo(f"model server ready: {url} (model {config.model_name})")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        typer.echo("stopping the model server")
    finally:
        server.close()
