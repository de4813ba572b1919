"""Loaders on good and broken files: every format, bad encodings, binary, NUL bytes, hostile HTML."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import DocumentError
from assistant.ingest.documents import (
    content_hash,
    iter_corpus_files,
    load_file,
    load_file_with_warnings,
    load_paths,
    make_doc_id,
    normalize_text,
)
from tests.conftest import SEED_CORPUS


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def test_markdown_front_matter_fills_metadata_and_leaves_the_body_verbatim(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.md",
        "---\ntitle: Big News\nsource: Wire\npublished: 2024-05-01\ntags: [a, b]\n---\nBody line one.\n\nBody *two*.\n",
    )
    [article] = load_file(path)
    assert (article.title, article.source, article.published, article.tags) == (
        "Big News",
        "Wire",
        "2024-05-01",
        ("a", "b"),
    )
    assert article.text == "Body line one.\n\nBody *two*."


def test_markdown_without_front_matter_takes_the_heading_as_title_and_invents_no_date(tmp_path: Path) -> None:
    [article] = load_file(write(tmp_path, "b.md", "# Heading here\n\nText."))
    assert article.title == "Heading here" and article.published == ""


def test_broken_front_matter_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="front matter"):
        load_file(write(tmp_path, "c.md", "---\ntitle: [unclosed\n---\nText"))


def test_txt_first_line_is_the_title(tmp_path: Path) -> None:
    [article] = load_file(write(tmp_path, "t.txt", "\n\nThe Title\n\nThe body.\n"))
    assert article.title == "The Title" and article.text.endswith("The body.")


HOSTILE = """<html><head><title>Storm &amp; Floods</title>
<meta property="article:published_time" content="2024-02-03T10:00:00Z">
<meta property="og:site_name" content="Daily Test"><link rel="canonical" href="https://example.org/storm">
<style>body { color: red }</style><script>alert('x')</script></head>
<body><nav>Home | World</nav><!-- secret comment -->
<article><h1>Storm floods town</h1><p>Water rose <b>two</b> metres.</p><p>Use &lt;script&gt; tags carefully.</p>
<img src=x onerror="alert(1)"><script>document.cookie</script></article><footer>Copyright</footer></body></html>"""


def test_html_keeps_the_main_text_and_drops_scripts_styles_nav_and_comments(tmp_path: Path) -> None:
    [article] = load_file(write(tmp_path, "p.html", HOSTILE))
    assert article.title == "Storm floods town"  # the headline on the page (trafilatura), not the <title> tag
    assert article.published == "2024-02-03" and article.source == "Daily Test"
    assert article.url == "https://example.org/storm"
    assert "Water rose two metres." in article.text
    for gone in ("alert", "color: red", "Home | World", "secret comment", "Copyright", "document.cookie"):
        assert gone not in article.text
    assert "<script> tags" in article.text, "escaped text stays text (escaping for display is the UI's job)"


def test_jsonl_reads_good_lines_and_reports_bad_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "n.jsonl",
        '{"title": "One", "text": "First.", "url": "https://x.org/1"}\nnot json\n'
        '{"title": "Two", "text": "Second.", "published": "2023-01-02"}\n{"title": "No text"}\n',
    )
    articles, warnings = load_file_with_warnings(path)
    assert [a.title for a in articles] == ["One", "Two"]
    assert articles[1].published == "2023-01-02"
    assert [w.split(":")[0] for w in warnings] == ["line 2", "line 4"]
    assert articles[0].doc_id == make_doc_id("https://x.org/1")


def test_jsonl_with_no_usable_line_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no usable line"):
        load_file(write(tmp_path, "bad.jsonl", "nope\n[1, 2]\n"))


def make_pdf(pages: list[str]) -> bytes:
    """A minimal PDF with one line of Helvetica text per page."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
        content_id = len(objects) + 2
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        kids.append(f"{len(objects) - 1} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_pdf_text_keeps_page_offsets(tmp_path: Path) -> None:
    [article] = load_file(write(tmp_path, "r.pdf", make_pdf(["First page text.", "Second page text."])))
    assert len(article.page_starts) == 2
    assert article.text[article.page_starts[0] :].startswith("First page text.")
    assert article.text[article.page_starts[1] :].startswith("Second page text.")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\n ", "empty"),
        ("binary.txt", bytes(range(256)) * 4, "binary"),
        ("nul.md", b"Title\x00\x00\x00 body", "binary"),
        ("broken.pdf", b"%PDF-1.4 garbage that is not a pdf", "PDF"),
        ("image.png", b"\x89PNG\r\n", "unsupported"),
        ("blank.pdf", make_pdf([""]), "no extractable text"),
    ],
)
def test_unreadable_files_raise_a_document_error_with_the_reason(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    with pytest.raises(DocumentError, match=reason) as err:
        load_file_with_warnings(write(tmp_path, name, data))
    assert name in str(err.value)


def test_too_large_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="too large"):
        load_file(write(tmp_path, "big.txt", "x" * 2000), max_bytes=1000)


def test_cp1252_and_utf16_files_decode_without_mojibake(tmp_path: Path) -> None:
    [latin] = load_file(write(tmp_path, "w.txt", "Caf\u00e9 \u201cquoted\u201d\n\nNa\u00efve text.".encode("cp1252")))
    assert "Café “quoted”" in latin.text
    [wide] = load_file(write(tmp_path, "u.txt", "Überschrift\n\nText in UTF-16.".encode("utf-16")))
    assert wide.title == "Überschrift"


def test_load_paths_continues_after_bad_files_and_names_them(tmp_path: Path) -> None:
    write(tmp_path, "good.md", "# Good\n\nFine text.")
    write(tmp_path, "bad.txt", b"\x00\x01\x02")
    write(tmp_path, ".hidden.md", "# Hidden\n\ntext")
    articles, errors = load_paths([tmp_path])
    assert [a.title for a in articles] == ["Good"]
    assert [Path(p).name for p, _ in errors] == ["bad.txt"] and "binary" in errors[0][1]


def test_iter_corpus_files_is_sorted_recursive_and_skips_hidden(tmp_path: Path) -> None:
    for name in ["b.md", "a.txt", "sub/c.html", ".git/x.md", "notes.docx"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in iter_corpus_files([tmp_path])] == [
        "a.txt",
        "b.md",
        "sub/c.html",
    ]


def test_normalization_is_idempotent_and_hash_ignores_line_endings() -> None:
    raw = "A\r\nB\u00a0C \t\r\n\r\n\r\n\r\nD\x07"
    once = normalize_text(raw)
    assert once == "A\nB C\n\nD" and normalize_text(once) == once
    assert content_hash("x\r\ny") == content_hash("x\ny")


def test_every_corpus_file_loads() -> None:
    articles, errors = load_paths([SEED_CORPUS])
    assert articles and not errors
    seed = next(a for a in articles if "Drones and Rockets" in a.title)
    assert seed.source == "Trim Correspondents" and seed.published == ""
    assert "around 2,500 troops in Iraq and 900 in eastern Syria" in seed.text
