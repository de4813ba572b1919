"""Turning a question into an Answer: retrieval, evidence, prompting, the pipeline."""
