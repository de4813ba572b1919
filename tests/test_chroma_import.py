"""chromadb is imported without the `overrides` signature checks, and the package is left as it was."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SCRIPT = """
import sys
import overrides
checking = sys.modules["overrides.overrides"]._overrides
from assistant.store.chroma import import_chromadb
chromadb = import_chromadb()
assert sys.modules["overrides.overrides"]._overrides is checking, "the package's function is put back"
client = chromadb.PersistentClient(path=sys.argv[1], settings=chromadb.Settings(anonymized_telemetry=False))
collection = client.get_or_create_collection("probe", metadata={"hnsw:space": "cosine"})
collection.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["north", "east"])
found = collection.query(query_embeddings=[[0.9, 0.1]], n_results=1)
print(found["documents"][0][0])
"""


def test_chromadb_imported_without_signature_checks_still_works(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "chroma")], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "north"
