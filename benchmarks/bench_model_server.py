"""A real llama.cpp server on the CPU (`catalog model-server`, the packaged Gemma 3 270M): schema-to-grammar
time, extraction latency per product, LLM query-parse latency per query, tokens/s, and how often answers
were retried or dropped.

The packaged model is a *base* 270M model, not instruction tuned: it answers badly (it copies the prompt,
repeats values, pads with whitespace until max_tokens). This measures the wire path and constrained
decoding, not extraction or parsing quality.

Products: the first --products of the bundled Luma fixture catalog (their photos are not sent: the model
takes no images, which the backend reads from /v1/models). Queries: the first --queries of
bench_query_parse.py's list, on its Luma-like store vocabulary. One llama.cpp thread (fastest on a busy
shared machine), one request slot, temperature 0. With --gbnf (the default) a second server started with
--jinja measures llama.cpp's GBNF grammar path for comparison.

Run: nice -n 10 .venv/bin/python benchmarks/bench_model_server.py   (writes benchmarks/results/model_server.json)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "unit" / "search_api" / "query"))

from bench_query_parse import QUERIES  # noqa: E402
from common import print_table, summarize, write_json  # noqa: E402
from vocab_fixture import store_vocabulary  # noqa: E402

from extractor.vlm import mapping, prompts  # noqa: E402
from extractor.vlm.llama_server import model_server_process  # noqa: E402
from extractor.vlm.openai_backend import OpenAIExtractor  # noqa: E402
from extractor.vlm.openai_client import OpenAIChatClient, response_format  # noqa: E402
from indexer.importers import fixture_path  # noqa: E402
from search_api.query.llm_parse import MAX_ANSWER_TOKENS, LLMQueryParser  # noqa: E402
from search_api.query.llm_schema import query_schema  # noqa: E402
from taxonomy import Taxonomy  # noqa: E402
from tests.sent_schemas import (  # noqa: E402
    PROBE,
    attribute_schemas,
    bundles,
    category_schemas,
    every_schema,
    rejected,
    whole_taxonomy_vocabulary,
)

REPEATS = 7


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def metrics(url: str) -> dict[str, float]:
    text = httpx.get(url.removesuffix("/v1") + "/metrics", timeout=30).text
    out = {}
    for line in text.splitlines():
        if line.startswith("llamacpp:"):
            name, value = line.split()
            out[name.removeprefix("llamacpp:")] = float(value)
    return out


def rates(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    gen = after["tokens_predicted_total"] - before["tokens_predicted_total"]
    gen_s = after["tokens_predicted_seconds_total"] - before["tokens_predicted_seconds_total"]
    prompt = after["prompt_tokens_total"] - before["prompt_tokens_total"]
    prompt_s = after["prompt_seconds_total"] - before["prompt_seconds_total"]
    return {"generated_tokens": int(gen), "generated_per_s": round(gen / gen_s, 1) if gen_s else None,
            "prompt_tokens": int(prompt), "prompt_per_s": round(prompt / prompt_s, 1) if prompt_s else None}


def one_token_s(url: str, schema: dict[str, Any] | None, max_tokens: int = 1, prompt: str = PROBE) -> float:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
                            "temperature": 0}
    if schema is not None:
        body["response_format"] = response_format(schema, "bench")
    started = time.perf_counter()
    httpx.post(url + "/chat/completions", json=body, timeout=600).raise_for_status()
    return time.perf_counter() - started


def compile_times(url: str, schemas: dict[str, dict[str, Any]], repeats: int) -> list[dict[str, Any]]:
    """Per schema: the fastest of `repeats` one-token answers under it, less the fastest without a schema
    (the same prompt, cached): converting the schema to a grammar and masking the first token. The fastest,
    not the median, because other work on a shared machine only ever adds time."""
    plain = min(one_token_s(url, None) for _ in range(repeats))
    rows = []
    for label, schema in schemas.items():
        under = min(one_token_s(url, schema) for _ in range(repeats))
        rows.append({"schema": label, "bytes": len(json.dumps(schema)), "grammar_ms": round((under - plain) * 1000)})
    return rows


# A prompt after which the model goes straight into the answer's first string (under PROBE it may pad with
# whitespace first, which says nothing about the cost inside an enum).
DECODE_PROMPT = "Pick a category for a hoodie"


def decode_rate(url: str, schema: dict[str, Any] | None, tokens: int = 16) -> float | None:
    """Generated tokens per second of the best of three answers (the server's own timing)."""
    best = None
    for _ in range(3):
        before = metrics(url)
        one_token_s(url, schema, tokens, DECODE_PROMPT)
        rate = rates(before, metrics(url))["generated_per_s"]
        best = rate if best is None or (rate or 0) > best else best
    return best


class Recorder:
    def __init__(self, complete) -> None:
        self.inner, self.calls = complete, []

    def __call__(self, messages, schema, name):
        started = time.perf_counter()
        raw = self.inner(messages, schema, name)
        self.calls.append({"name": name, "schema": schema, "raw": raw, "s": time.perf_counter() - started,
                           "retry": any(m["role"] == "assistant" for m in messages)})
        return raw


def complete_under_schema(call: dict[str, Any]) -> bool:
    from jsonschema import Draft202012Validator

    try:
        return Draft202012Validator(call["schema"]).is_valid(json.loads(call["raw"]))
    except json.JSONDecodeError:
        return False


def bench_extraction(url: str, tax: Taxonomy, n: int, max_tokens: int) -> dict[str, Any]:
    import extractor.local  # noqa: F401 - before magento, which it imports (magento first is circular)
    from extractor.datasets import magento

    products = [g.product for g in magento.load(fixture_path())[:n]]
    ex = OpenAIExtractor(url, None, timeout_s=600, max_retries=1, concurrency=1, max_tokens=max_tokens, taxonomy=tax)
    recorder = Recorder(ex.driver.complete)
    ex.driver.complete = recorder
    before = metrics(url)
    started = time.perf_counter()
    results, per_product = [], []
    for product in products:  # one at a time, for a latency per product
        t = time.perf_counter()
        results += ex.extract([product])
        per_product.append((time.perf_counter() - t) * 1000)
    seconds = time.perf_counter() - started
    ex.close()
    by_stage = {}
    for stage in (prompts.CATEGORY_SCHEMA_NAME, prompts.ATTRIBUTES_SCHEMA_NAME):
        calls = [c for c in recorder.calls if c["name"] == stage]
        by_stage[stage] = {"requests": len(calls), "retries": sum(c["retry"] for c in calls),
                           "complete_valid": sum(complete_under_schema(c) for c in calls),
                           "opened_an_object": sum(c["raw"].startswith("{") for c in calls),
                           "p50_request_ms": round(statistics.median(c["s"] for c in calls) * 1000)}
    errors = [e for r in results for e in r.errors]
    return {
        "products": len(products), "max_tokens": max_tokens, "max_retries": 1,
        "per_product": summarize(per_product, seconds), "stages": by_stage,
        "category_answers_dropped": sum(e.startswith("category: unusable") for e in errors),
        "attribute_answers_dropped": sum(e.startswith("attributes: unusable") for e in errors),
        "category_fallbacks": sum(r.category is not None and r.category.confidence == mapping.CONF_FALLBACK
                                  for r in results),
        "values_extracted": sum(len(a.values) for r in results for a in r.attributes),
        "values_dropped_outside_taxonomy": sum(r.dropped_values for r in results),
        "tokens": rates(before, metrics(url)),
        "examples": [{"title": p.title, "category": r.category.full_name if r.category else None,
                      "attributes": {a.handle: [v.name for v in a.values] for a in r.attributes},
                      "errors": r.errors} for p, r in zip(products, results, strict=True)][:3],
        "answers": [{"stage": c["name"], "retry": c["retry"], "raw": c["raw"][:400]} for c in recorder.calls],
    }


def bench_queries(url: str, tax: Taxonomy, n: int, max_tokens: int) -> dict[str, Any]:
    vocab = store_vocabulary()
    client = OpenAIChatClient(url, None, timeout_s=600, max_retries=0, max_tokens=max_tokens)
    recorder = Recorder(client.complete)
    client.complete = recorder
    parser = LLMQueryParser(client)
    before = metrics(url)
    started = time.perf_counter()
    latencies = []
    for q in QUERIES[:n]:
        t = time.perf_counter()
        parser.parse("bench", q, vocab, tax)
        latencies.append((time.perf_counter() - t) * 1000)
    seconds = time.perf_counter() - started
    parser.close()
    return {"queries": n, "max_tokens": max_tokens, "per_query": summarize(latencies, seconds),
            "outcomes": dict(parser.stats), "complete_valid": sum(complete_under_schema(c) for c in recorder.calls),
            "opened_an_object": sum(c["raw"].startswith("{") for c in recorder.calls),
            "tokens": rates(before, metrics(url)), "answers": [c["raw"][:400] for c in recorder.calls]}


def bench_server(args: argparse.Namespace, tax: Taxonomy, home: str, *, jinja: bool) -> dict[str, Any]:
    server_args = ["--port", "0", "--threads", str(args.threads), "--parallel", "1", "--ctx-size", "4096"]
    if jinja:
        server_args.append("--jinja")
    started = time.perf_counter()
    with model_server_process(server_args, env={"CATALOG_HOME": home}, timeout_s=600) as (_proc, url):
        out: dict[str, Any] = {"ready_s": round(time.perf_counter() - started, 1)}
        attribute = max((s for _label, s in attribute_schemas(tax)), key=lambda s: len(json.dumps(s)))
        enum = lambda n: {"type": "object", "required": ["c"], "properties": {  # noqa: E731
            "c": {"type": "string", "enum": [f"Category name number {i}" for i in range(n)]}}}
        schemas = {
            "stage 1: category of the verticals": category_schemas(tax)[0][1],
            "stage 2: largest category (Motherboards)": attribute,
            "query: Luma-like store": query_schema(store_vocabulary()),
            "enum of 100 strings": enum(100),
            "enum of 1000 strings": enum(1000),
        }
        schemas["query: whole taxonomy as one store"] = query_schema(whole_taxonomy_vocabulary(tax))
        out["compile"] = compile_times(url, schemas, repeats=REPEATS)
        # Tokens inside an enum's strings are where GBNF is slow (each candidate token is checked against
        # every alternative); the answer enters the string after a few tokens.
        out["decode_per_s"] = {"no schema": decode_rate(url, None),
                               "under the Luma query schema": decode_rate(url, query_schema(store_vocabulary())),
                               "inside an enum of 100 strings": decode_rate(url, enum(100)),
                               "inside an enum of 1000 strings": decode_rate(url, enum(1000))}
        if not jinja:
            t = time.perf_counter()
            every = every_schema(tax)
            problems = [label for group in bundles(every) for label in rejected(url, group)]
            out["every_schema"] = {"schemas": len(every), "rejected": problems,
                                   "seconds": round(time.perf_counter() - t, 1)}
            out["extraction"] = bench_extraction(url, tax, args.products, args.max_tokens)
            out["query_parser"] = bench_queries(url, tax, args.queries, args.query_max_tokens)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=3)
    parser.add_argument("--queries", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=512, help="extraction answers (the backend's default: 1024)")
    parser.add_argument("--query-max-tokens", type=int, default=MAX_ANSWER_TOKENS, help="query answers")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--gbnf", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    tax = Taxonomy.load()
    payload: dict[str, Any] = {"model": "gemma-3-270m-q4_k_m (packaged, base model)", "threads": args.threads,
                               "load_average_start": load()}
    with tempfile.TemporaryDirectory(prefix="bench-model-server-") as home:
        payload["llguidance"] = bench_server(args, tax, home, jinja=False)
        if args.gbnf:
            payload["gbnf_jinja"] = bench_server(args, tax, home, jinja=True)
    payload["load_average_end"] = load()

    rows = []
    for engine in ("llguidance", "gbnf_jinja"):
        for row in payload.get(engine, {}).get("compile", []):
            rows.append({"engine": engine, **row})
    print_table("schema to grammar (one-token answer under the schema, less one without)", rows,
                ["engine", "schema", "bytes", "grammar_ms"])
    lg = payload["llguidance"]
    ext, qp = lg["extraction"], lg["query_parser"]
    print_table("latency and tokens", [
        {"what": f"extraction, per product ({ext['products']})", **ext["per_product"], **ext["tokens"]},
        {"what": f"query parse, per query ({qp['queries']})", **qp["per_query"], **qp["tokens"]},
    ], ["what", "n", "p50_ms", "p95_ms", "per_s", "generated_per_s", "prompt_per_s"])
    print_table("answers", [
        {"what": "extraction stage 1", **ext["stages"][prompts.CATEGORY_SCHEMA_NAME],
         "dropped": ext["category_answers_dropped"]},
        {"what": "extraction stage 2", **ext["stages"][prompts.ATTRIBUTES_SCHEMA_NAME],
         "dropped": ext["attribute_answers_dropped"]},
        {"what": "query parser", "requests": sum(v for k, v in qp["outcomes"].items() if k != "dropped"),
         "complete_valid": qp["complete_valid"], "opened_an_object": qp["opened_an_object"],
         "dropped": {k: v for k, v in qp["outcomes"].items() if k != "llm"}},
    ], ["what", "requests", "retries", "complete_valid", "opened_an_object", "dropped"])
    print(f"\nevery schema: {lg['every_schema']}; decode tokens/s {lg['decode_per_s']}"
          + (f", GBNF {payload['gbnf_jinja']['decode_per_s']}" if "gbnf_jinja" in payload else ""))
    print(f"load average: start {payload['load_average_start']}, end {payload['load_average_end']}")
    write_json("model_server", payload)


if __name__ == "__main__":
    main()
