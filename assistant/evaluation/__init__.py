"""Eval harness: suites of factual questions scored with deterministic metrics, gating CI."""
