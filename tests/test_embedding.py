"""The embedder: questions run MiniLM in numpy (no torch import) and agree with sentence-transformers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


def test_embedding_a_question_imports_no_torch() -> None:
    code = (
        "import sys; from assistant.store.embedding import make_embedder;"
        "from assistant.settings import EmbeddingSettings;"
        "v = make_embedder(EmbeddingSettings()).embed(['How many troops are in Syria?'])[0];"
        "print(len(v), round(sum(x * x for x in v), 4), 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.split() == ["384", "1.0", "False", "False"]


@pytest.mark.integration
def test_numpy_minilm_agrees_with_sentence_transformers() -> None:
    import numpy as np

    from assistant.settings import EmbeddingSettings
    from assistant.store.embedding import SentenceTransformerEmbedder

    texts = [
        "How many U.S. troops are in eastern Syria?",
        "The U.S. currently has around 2,500 troops in Iraq and 900 in eastern Syria on an advise-and-assist mission.",
        "Zummar",
        " ".join(["A long sentence about rockets, drones and the Ain al-Asad air base."] * 40),  # past 256 pieces
    ]
    by_numpy = np.array(SentenceTransformerEmbedder(EmbeddingSettings(numpy_up_to=8)).embed(texts))
    by_torch = np.array(SentenceTransformerEmbedder(EmbeddingSettings(numpy_up_to=0)).embed(texts))
    assert (by_numpy * by_torch).sum(axis=1).min() > 0.99999
