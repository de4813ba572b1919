"""Text helpers: the vendored Porter stemmer gives NLTK's stems (the lexical index stores them)."""

from __future__ import annotations

import re
import subprocess
import sys

from assistant.porter_stemmer import PorterStemmer
from tests.conftest import REPO, SEED_CORPUS


def test_the_vendored_stemmer_gives_the_stems_of_nltk() -> None:
    from nltk.stem import porter as nltk_porter  # a dev dependency: the test fails rather than skips without it

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEED_CORPUS.glob("*"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((REPO / "eval").rglob("*.md"))]
    words = set(re.findall(r"[a-z]+", " ".join(texts).lower()))
    words |= {"paused", "generously", "hopping", "sized", "conditional", "agreed", "feed", "happy", "sky", "dying"}
    assert len(words) > 500
    ours, theirs = PorterStemmer(), nltk_porter.PorterStemmer()
    assert [w for w in sorted(words) if ours.stem(w) != theirs.stem(w)] == []


def test_stemming_does_not_import_nltk() -> None:
    code = "import sys; from assistant.text import terms; terms('Rockets were launched'); print('nltk' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "False"
