"""Where chunks live: Chroma, the lexical index beside it, the ledger, the write lock, embeddings."""
