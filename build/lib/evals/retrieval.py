"""Retrieval eval: recall@1, recall@3 and MRR for dense, BM25 and hybrid, plus latency."""

from __future__ import annotations

import statistics
import time

from rich.console import Console
from rich.table import Table

from evals.common import knowledge, read_jsonl

MODES = ("dense", "lexical", "hybrid")


def evaluate(mode: str, queries: list[dict]) -> dict[str, float]:
    """Metrics for one retrieval mode over labelled queries."""
    retriever = knowledge().retriever
    hits1 = hits3 = 0
    rr = 0.0
    latencies = []
    misses = []
    for q in queries:
        retriever.index.embedder.clear_cache()  # measure real query embedding, not a cache hit
        start = time.perf_counter()
        ranked = [n for n, _ in retriever.rank_notes(q["query"], k=10, mode=mode)]
        latencies.append((time.perf_counter() - start) * 1000)
        expected = set(q["expected"])
        rank = next((i for i, n in enumerate(ranked, 1) if n in expected), None)
        hits1 += rank == 1
        hits3 += rank is not None and rank <= 3
        rr += 1 / rank if rank else 0.0
        if rank is None or rank > 3:
            misses.append((q["query"], q["expected"][0], ranked[:3]))
    n = len(queries)
    return {"recall@1": hits1 / n, "recall@3": hits3 / n, "mrr": rr / n,
            "median_ms": statistics.median(latencies),
            "p95_ms": sorted(latencies)[int(0.95 * (n - 1))], "misses": misses}


def run(console: Console | None = None, show_misses: int = 0) -> dict[str, dict]:
    """Print the retrieval table; returns the figures."""
    console = console or Console()
    queries = read_jsonl("retrieval")
    kb = knowledge()
    kb.retriever.search("warm up the model", k=3)  # latency is measured with the model warm
    results = {mode: evaluate(mode, queries) for mode in MODES}
    table = Table(title=f"Retrieval: {len(queries)} labelled queries, "
                        f"{len(kb.catalog.notes)} notes, {len(kb.retriever.chunks)} chunks")
    for col in ("mode", "recall@1", "recall@3", "MRR", "median ms", "p95 ms"):
        table.add_column(col, justify="right" if col != "mode" else "left")
    for mode, r in results.items():
        table.add_row("BM25" if mode == "lexical" else mode, f"{r['recall@1']:.3f}",
                      f"{r['recall@3']:.3f}", f"{r['mrr']:.3f}", f"{r['median_ms']:.1f}",
                      f"{r['p95_ms']:.1f}")
    console.print(table)
    for query, want, got in results["hybrid"]["misses"][:show_misses]:
        console.print(f"  miss: {query!r} → want {want}, got {got}")
    return results


if __name__ == "__main__":
    run(show_misses=40)
