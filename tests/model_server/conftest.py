"""A real llama.cpp server (`catalog model-server`, the packaged Gemma 3 270M) on 127.0.0.1, once per session.

The model-server extra missing is a skip on a laptop and a failure under CI=true (`make test` installs it).
One thread and one request slot: on a busy 2-core machine a second llama.cpp thread makes decoding several
times slower (threads wait on each other), and the tests send one request at a time anyway.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from extractor.vlm.llama_server import missing_packages, model_server_process
from taxonomy import Taxonomy
from tests.required import service_missing

SERVER_ARGS = ["--host", "127.0.0.1", "--port", "0", "--threads", "1", "--parallel", "1", "--ctx-size", "4096"]


@pytest.fixture(scope="session")
def model_server(tmp_path_factory) -> Iterator[str]:
    """The server's OpenAI base URL. Started without --gguf, so it also covers assembling the packaged model
    into CATALOG_HOME/models."""
    missing = missing_packages()
    if missing:
        service_missing(f"the model-server extra is not installed ({', '.join(missing)}): "
                        "pip install -e '.[model-server]'")
    home = tmp_path_factory.mktemp("model-server-home")
    with model_server_process(SERVER_ARGS, env={"CATALOG_HOME": str(home)}) as (_proc, url):
        yield url


@pytest.fixture(scope="session")
def tax() -> Taxonomy:
    return Taxonomy.load()
