"""Run an eval suite through llama-index's stock CitationQueryEngine (same store, same local model).

Usage: python bench/stock_eval.py SUITE OUTPUT_DIR [--limit N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    from rich.console import Console

    from assistant.engine import Assistant
    from assistant.evaluation.harness import default_store_dir, run_suite
    from assistant.evaluation.reporting import print_table, write_all
    from assistant.evaluation.suite_file import load_suite
    from assistant.settings import Settings
    from bench.stock_engine import StockCitationEngine

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("suite")
    parser.add_argument("output", type=Path)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    suite = load_suite(args.suite)
    settings = Settings(**{**suite.settings, "data_dir": default_store_dir(args.output, suite)})
    engine = StockCitationEngine(Assistant(settings), top_k=3)
    result = run_suite(suite, engine, backend="llama-index CitationQueryEngine (stock)", limit=args.limit)
    write_all(result, args.output, ["Stock llama-index CitationQueryEngine: the baseline to beat."])
    print_table(result, Console())


if __name__ == "__main__":
    main()
