"""The benchmark's summary: the ratios the issue asks for, a table, and one JSON line."""

from typing import Any


def summarise(floors: dict[str, Any], sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """The headline ratios over the measured sizes (the first one has real vectors), with
    every raw figure."""
    first, largest = sizes[0], sizes[-1]
    grown = (largest["passages"] - first["passages"]) / 1000
    rss = largest["server_peak_rss_mb"] - (first["server_peak_rss_mb"] if grown else 0)
    recalls = [s["recall_at_10"] for s in sizes if s.get("recall_at_10") is not None]
    return {
        "search_over_encode_p50": round(
            largest["search_http_ms"]["p50"] / floors["query_encoding_ms"]["p50"], 3
        ),
        "ingest_over_encode": first.get("ingest_over_encode"),
        "update_growth": round(largest["add_one_s"] / first["add_one_s"], 2),
        "reindex_speedup": round(first["ingest_s"] / first["reindex_s"], 1)
        if first.get("reindex_s")
        else None,
        "rss_mb_per_1k_passages": round(rss / (grown or first["passages"] / 1000), 2),
        "min_recall_at_10": min(recalls) if recalls else None,
        "floors": floors,
        "sizes": sizes,
    }


def table(sizes: list[dict[str, Any]]) -> str:
    """One row per size, for people."""
    rows = [
        f"{'size':>8} {'vectors':>7} {'passages':>9} {'ingest/s':>9} {'add 1':>7} "
        f"{'del 1':>7} {'in-proc p50/p95/p99 ms':>23} {'HTTP p50/p95/p99 ms':>21} "
        f"{'start s':>8} {'RSS MB':>7}"
    ]
    for s in sizes:
        local, http = s["search_in_process_ms"], s["search_http_ms"]
        rows.append(
            f"{s['label']:>8} {'real' if s['real_vectors'] else 'random':>7} "
            f"{s['passages']:>9} {s['ingest_passages_per_s']:>9} {s['add_one_s']:>7} "
            f"{s['delete_one_s']:>7} "
            f"{local['p50']:>7}/{local['p95']:>7}/{local['p99']:>7} "
            f"{http['p50']:>6}/{http['p95']:>6}/{http['p99']:>6} "
            f"{s['startup_s']:>8} {s['server_peak_rss_mb']:>7}"
        )
    return "\n".join(rows)
