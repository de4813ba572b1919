"""Reading articles: formats, chunking, near-duplicates and the crash-safe ingest run."""
