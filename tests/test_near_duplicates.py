"""MinHash signatures: equal texts match, different texts do not, and the values never change between runs."""

from __future__ import annotations

import subprocess
import sys

from assistant.ingest.near_duplicates import (
    SIGNATURE_SIZE,
    SignatureIndex,
    decode,
    encode,
    shingles,
    signature,
    similarity,
)
from tests.conftest import REPO, SEED_CORPUS, TINY_ARTICLES, republished

SEED_TEXT = next(SEED_CORPUS.glob("*.md")).read_text(encoding="utf-8")


def test_same_text_has_similarity_one_and_unrelated_texts_about_zero() -> None:
    seed = signature(SEED_TEXT)
    assert len(seed) == SIGNATURE_SIZE
    assert similarity(seed, signature(SEED_TEXT)) == 1.0
    assert similarity(seed, signature(TINY_ARTICLES["storm.md"])) < 0.1


def test_estimate_tracks_the_true_shingle_overlap() -> None:
    edited = republished(SEED_TEXT)
    first, second = shingles(SEED_TEXT), shingles(edited)
    true_jaccard = len(first & second) / len(first | second)
    assert abs(similarity(signature(SEED_TEXT), signature(edited)) - true_jaccard) < 0.1
    half = " ".join(SEED_TEXT.split()[: len(SEED_TEXT.split()) // 2])
    assert similarity(signature(SEED_TEXT), signature(half)) < 0.7


def test_case_and_punctuation_do_not_matter_but_words_do() -> None:
    assert similarity(signature("The storm closed 40 schools."), signature("the STORM closed 40 schools")) == 1.0
    assert similarity(signature("The storm closed 40 schools."), signature("The storm closed 41 schools.")) < 1.0


def test_text_without_words_has_no_signature_and_matches_nothing() -> None:
    assert signature(" ... ") == ()
    assert similarity((), signature("text")) == 0.0


def test_encoding_round_trips_and_malformed_input_decodes_empty() -> None:
    sig = signature(SEED_TEXT)
    assert decode(encode(sig)) == sig
    assert decode("zz.not-hex") == () and decode("") == ()


def test_signature_is_the_same_in_another_process_with_another_hash_seed() -> None:
    text = "one two three four five six"
    code = f"from assistant.ingest.near_duplicates import signature, encode; print(encode(signature({text!r})))"
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env={"PYTHONHASHSEED": seed}, capture_output=True, text=True
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert runs == {encode(signature(text))}


def test_index_finds_the_near_copy_among_many_and_skips_the_excluded_one() -> None:
    index = SignatureIndex()
    for number in range(200):
        index.add(f"other-{number}", signature(f"Report {number}: " + " ".join(f"w{number}x{i}" for i in range(80))))
    index.add("seed", signature(SEED_TEXT))
    edited = signature(republished(SEED_TEXT))
    doc_id, score = index.nearest(edited)
    assert doc_id == "seed" and score > 0.9
    assert index.nearest(edited, exclude="seed")[1] < 0.1
    index.remove("seed")
    assert index.nearest(edited)[0] != "seed"
