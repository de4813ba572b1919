"""Bad inputs: control characters, bad encodings, a 1 MB line, and hostile files that must fail alone, in bounded
time and memory, writing nothing outside the data dir (issue 11, cases 1 and 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import pytest

from assistant.ingest.chunking import MAX_CHARS_PER_TOKEN, chunk_article
from assistant.ingest.documents import load_file_with_warnings
from assistant.ingest.pdf_text import PdfTextError, extract_pdf
from assistant.types import Article
from tests.conftest import REPO

NUL_ARTICLE = (
    "---\ntitle: Ferry strike ends\nsource: Test Wire\n---\n"
    "The ferry\x00 strike ended on Friday\x07 after 11 days.\x1b Unions won a 4 percent raise.\x0c\n"
)


def words(text: str) -> int:
    return len(text.split()) + 2


def write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# -- case 1: control characters and encodings -----------------------------------------------------------------


def test_document_with_nul_and_control_characters_is_cleaned_not_rejected(tmp_path: Path) -> None:
    [article], notes = load_file_with_warnings(write(tmp_path, "ferry.md", NUL_ARTICLE))
    assert article.title == "Ferry strike ends"
    assert article.text == "The ferry strike ended on Friday after 11 days. Unions won a 4 percent raise."
    assert notes == ["removed 4 control character(s) such as NUL from the text"]


def test_text_with_a_few_nul_bytes_is_text_but_a_binary_file_is_refused(tmp_path: Path) -> None:
    story = "Storm closes schools\n\n" + "A winter storm closed 40 schools on Monday. " * 20
    [article], notes = load_file_with_warnings(write(tmp_path, "storm.txt", story.replace("closed", "clo\x00sed")))
    assert "closed 40 schools" in article.text and notes
    with pytest.raises(Exception, match="binary file"):
        load_file_with_warnings(write(tmp_path, "photo.txt", bytes(range(256)) * 64))


@pytest.mark.parametrize(
    ("data", "text", "note"),
    [
        ("Caf\u00e9 prices rose 3 percent in M\u00fcnster.".encode("cp1252"), "Café prices rose", "Windows-1252"),
        (b"Prices rose \x81\x8d 3 percent.", "Prices rose \x81\x8d 3 percent.", "Latin-1"),
        ("Caf\u00e9 and na\u00efve stay UTF-8.".encode() + b" one bad byte \xff here.", "Café", "replaced"),
    ],
)
def test_invalid_utf8_is_decoded_with_a_reported_fallback(tmp_path: Path, data: bytes, text: str, note: str) -> None:
    [article], notes = load_file_with_warnings(write(tmp_path, "old.txt", b"Headline\n\n" + data))
    assert text in article.text
    assert len(notes) == 1 and "not valid UTF-8" in notes[0] and note in notes[0]


def test_lone_surrogates_from_a_json_escape_do_not_break_the_text(tmp_path: Path) -> None:
    line = json.dumps({"title": "Odd", "text": "A broken pair \ud800 stays readable."})
    [article], _ = load_file_with_warnings(write(tmp_path, "odd.jsonl", line + "\n"))
    assert article.text.encode("utf-8")  # would raise on a lone surrogate
    assert "stays readable" in article.text


@pytest.mark.parametrize(
    "line",
    [
        " ".join(f"word{i % 97}" for i in range(150_000))[:1_000_000],  # words, no sentence end
        "x" * 1_000_000,  # one run without spaces
        ",".join(["abc"] * 250_000),  # punctuation, no spaces
    ],
    ids=["words", "no-spaces", "commas"],
)
def test_one_megabyte_single_line_is_chunked_in_bounded_time(line: str) -> None:
    article = Article(doc_id="d", source_path="line.txt", title="t", text=line)
    started = time.perf_counter()
    chunks = chunk_article(article, words, max_tokens=200)
    assert time.perf_counter() - started < 10, "chunking must be (near) linear, not one count per word"
    assert chunks and chunks[0].start == 0 and chunks[-1].end == len(line)
    for chunk in chunks:
        assert line[chunk.start : chunk.end] == chunk.text
        assert words(chunk.text) <= 200 and len(chunk.text) <= 200 * MAX_CHARS_PER_TOKEN


def test_mixed_bad_files_leave_the_good_articles_answerable(fake_assistant_factory, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus, "ferry.md", NUL_ARTICLE)
    latin = "Market report\n\nCaf\u00e9 owners in Tr\u00e9gastel sold 800 cr\u00eapes."
    write(corpus, "latin.txt", latin.encode("latin-1"))
    write(corpus, "line.txt", "Long line\n\n" + " ".join(f"token{i}" for i in range(200_000)))
    write(corpus, "broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << >>\n%%EOF")
    write(corpus, "empty.txt", b"")
    assistant = fake_assistant_factory(None)
    report = assistant.ingest([corpus])
    assert report.added == 3
    failed = {Path(p).name: reason for p, reason in report.errors if "could not" in reason or "PDF" in reason}
    assert set(failed) == {"broken.pdf"}, report.errors
    assert {Path(p).name for p, _ in report.errors} >= {"ferry.md", "latin.txt", "empty.txt", "broken.pdf"}
    ferry = assistant.ask("How many days did the ferry strike last?")
    assert "11 days" in ferry.text and ferry.citations[0].title == "Ferry strike ends"
    crepes = assistant.ask("How many crêpes did the café owners in Trégastel sell?")
    assert "800" in crepes.text


# -- case 2: hostile files ------------------------------------------------------------------------------------


def flate_pdf(pages: int, bytes_per_page: int) -> bytes:
    """A valid PDF whose page content streams are small compressed but decompress to ``bytes_per_page`` each."""
    unit = b"BT /F1 12 Tf 72 720 Td (A) Tj ET\n"
    stream = zlib.compress(unit * (bytes_per_page // len(unit)), 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for _ in range(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {len(objects) + 2} 0 R /Resources "
            "<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream")
        kids.append(f"{len(objects) - 1} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {pages} >>".encode()
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_pdf_reader_child_is_bounded_in_time_and_memory() -> None:
    many_pages = flate_pdf(pages=1200, bytes_per_page=1_000_000)  # 1.2 GB of page content; each stream under
    # both our cap and pypdf's own parsing budget (2 M tokens per stream), so only our limits can stop it
    started = time.perf_counter()
    with pytest.raises(PdfTextError, match="longer than 2 s"):
        extract_pdf(many_pages, seconds=2)
    assert time.perf_counter() - started < 2 + 10
    with pytest.raises(PdfTextError, match="more than 80 MB of memory"):
        extract_pdf(many_pages, memory_bytes=80 << 20)
    with pytest.raises(PdfTextError, match="characters of text"):
        extract_pdf(flate_pdf(pages=3, bytes_per_page=40_000), max_chars=100)


HOSTILE_INGEST = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from tests.conftest import FakeEmbedder
from assistant.engine import Assistant
from assistant.settings import Settings

def peak_rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

settings = Settings(data_dir=Path({data!r}), chroma_url=None)
assistant = Assistant(settings, llm=None, embedder=FakeEmbedder())
began = time.perf_counter()
report = assistant.ingest([Path({corpus!r})])
seconds = time.perf_counter() - began
answer = assistant.ask("How many steel cables did engineers replace on the harbor bridge?")
print(json.dumps({{
    "added": report.added, "errors": report.errors, "seconds": seconds, "answer": answer.text,
    "documents": assistant.stats()["documents"],
    # VmHWM, not ru_maxrss: ru_maxrss keeps the peak of the forking pytest process across exec.
    "rss_mb": peak_rss_mb(),
    "child_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}}))
"""


def hostile_corpus(folder: Path, jsonl_lines: int) -> dict[str, str]:
    """Good articles beside hostile files; returns the reason each hostile file must fail with."""
    folder.mkdir()
    write(folder, "harbor.md", "# Harbor bridge reopens\n\nEngineers replaced 14 steel cables on the harbor bridge.\n")
    write(folder, "festival.txt", "Jazz festival\n\nAbout 12,000 people attended the festival in Riverton.\n")
    with (folder / "huge.html").open("wb") as handle:  # 200 MB, sparse: refused by its size, never read
        handle.truncate(200_000_000)
    write(folder, "malformed.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nstream\n\xff\xfe garbage")
    write(folder, "bomb.pdf", flate_pdf(pages=50, bytes_per_page=40_000_000))  # 2 GB of page content
    write(folder, "tags.html", "<html><body>" + "<b>" * 400_000 + "text</body></html>")
    write(folder, "nested.html", "<html><body>" + "<div>" * 50_000 + "Deep text." + "</div>" * 50_000 + "</body>")
    lines = [json.dumps({"title": f"Wire {i}", "text": f"Wire story {i}: {i * 3} boats."}) for i in range(jsonl_lines)]
    lines[len(lines) // 2] = '{"title": "broken", "text": '
    write(folder, "wire.jsonl", "\n".join(lines) + "\n")
    return {
        "huge.html": "too large",
        "malformed.pdf": "unreadable PDF",
        "bomb.pdf": "unreadable PDF",
        "tags.html": "HTML",  # too many elements, or (trafilatura) no readable text: either way it fails alone
        "wire.jsonl": f"line {len(lines) // 2 + 1}:",
    }


def run_isolated_ingest(tmp_path: Path, corpus: Path) -> tuple[dict, dict[str, float]]:
    """Ingest ``corpus`` in a child whose home, temp dir and working dir are empty; returns its report and
    the modification times of every file outside the data dir before the run."""
    data, home, scratch, work = (tmp_path / name for name in ("data", "home", "scratch", "work"))
    for folder in (home, scratch, work):
        folder.mkdir()
    before = {str(p): p.stat().st_mtime for p in tmp_path.rglob("*") if p.is_file()}
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(scratch), "ANONYMIZED_TELEMETRY": "False"}
    script = HOSTILE_INGEST.format(repo=str(REPO), data=str(data), corpus=str(corpus))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, cwd=work, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outside = sorted(
        str(p.relative_to(tmp_path))
        for p in tmp_path.rglob("*")
        if p.is_file() and data not in p.parents and before.get(str(p)) != p.stat().st_mtime
    )
    assert outside == [], f"written outside the data dir: {outside}"
    return json.loads(done.stdout.strip().splitlines()[-1]), before


@pytest.mark.timeout(600)
def test_hostile_files_fail_alone_in_bounded_time_and_memory_and_write_only_the_data_dir(tmp_path: Path) -> None:
    expected = hostile_corpus(tmp_path / "corpus", jsonl_lines=300)
    report, _ = run_isolated_ingest(tmp_path, tmp_path / "corpus")
    reasons: dict[str, list[str]] = {}
    for path, reason in report["errors"]:
        reasons.setdefault(Path(path).name, []).append(reason)
    for name, reason in expected.items():
        assert name in reasons and any(reason in r for r in reasons[name]), (name, reasons.get(name))
    assert len(reasons["wire.jsonl"]) == 1, "only the broken line of the .jsonl fails"
    assert report["added"] == 2 + 1 + 299, "both articles, the nested page and every good .jsonl line"
    assert "14 steel cables" in report["answer"]
    assert report["seconds"] < 300
    assert report["rss_mb"] < 1500, "the ingest process itself stayed small"
    assert report["child_rss_mb"] < 1600, "the PDF reader stayed under its memory cap"


def test_100k_line_jsonl_loads_in_bounded_time_with_one_warning(tmp_path: Path) -> None:
    lines = [json.dumps({"title": f"Wire {i}", "text": f"Story {i}: {i} boats."}) for i in range(100_000)]
    lines[70_000] = "{broken"
    path = write(tmp_path, "wire.jsonl", "\n".join(lines))
    started = time.perf_counter()
    articles, warnings = load_file_with_warnings(path)
    assert time.perf_counter() - started < 120  # about 3 s on an idle laptop core; linear in the lines
    assert len(articles) == 99_999 and len({a.doc_id for a in articles}) == 99_999
    assert len(warnings) == 1 and warnings[0].startswith("line 70001:")
