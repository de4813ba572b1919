"""A news site on 127.0.0.1 for tests: invented saved pages, an RSS feed, and replies that go wrong on purpose."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Invented stories of an invented valley: (slug, outlet, author, date, title, paragraphs).
STORIES = [
    (
        "ferry-returns",
        "Harrowdale Courier",
        "Mira Okonkwo-Lind",
        "2026-02-02",
        "Lake ferry returns to Pellham after a winter refit",
        [
            "The Pellham lake ferry carried its first passengers of the year on Monday after a refit that took "
            "eleven weeks and cost the valley council 310,000 crowns.",
            "Captain Teodor Brisk said the new engine burns a third less fuel and that the crossing to Aldwick "
            "now takes nineteen minutes instead of twenty-six.",
            "The council expects about 1,400 crossings a day once the schools reopen, up from 900 last spring.",
        ],
    ),
    (
        "orchard-frost",
        "Valley Ledger",
        "Jonas Ferreira-Holt",
        "2026-02-05",
        "Late frost costs Quillan orchards most of their blossom",
        [
            "Growers in Quillan lost most of this year's apple blossom to a frost that reached minus seven degrees "
            "on Thursday night, the growers' cooperative said.",
            "The cooperative's chair, Ilse Marrow, estimated that 62 of its 85 member orchards were hit and that the "
            "harvest could fall by half.",
            "Smudge pots and wind machines saved the orchards on the eastern slope, where the cold air drained away.",
        ],
    ),
    (
        "library-vote",
        "Harrowdale Courier",
        "Sana Albrecht",
        "2026-02-09",
        "Aldwick council votes to keep the old library open",
        [
            "The Aldwick town council voted seven to two on Tuesday to keep the Brant Street library open for "
            "another five years.",
            "Councillor Pim Varga, who proposed the motion, said the building needs a new roof that will cost "
            "about 48,000 crowns.",
            "Readers had collected 2,300 signatures asking the council not to move the books to the town hall.",
        ],
    ),
    (
        "bridge-closure",
        "Valley Ledger",
        "Jonas Ferreira-Holt",
        "2026-02-11",
        "Weir bridge at Tolland closes for three weeks of repairs",
        [
            "The weir bridge at Tolland closed to cars on Wednesday so that engineers can replace its cracked "
            "bearings, the roads office said.",
            "Drivers are sent round by the Mossgate road, which adds about fourteen kilometres to the trip to the "
            "market at Pellham.",
            "Cyclists and walkers may still cross on the downstream footway while the work goes on.",
        ],
    ),
    (
        "choir-prize",
        "Harrowdale Courier",
        "Mira Okonkwo-Lind",
        "2026-02-14",
        "Quillan school choir wins the valley singing prize",
        [
            "The choir of Quillan middle school won the valley singing prize on Saturday with a programme of "
            "songs written by its own pupils.",
            "Its director, Abel Nunez-Strand, said the forty singers rehearsed every morning for two months.",
            "The prize of 5,000 crowns will pay for a trip to the festival in Wenmark in June.",
        ],
    ),
    (
        "market-hall",
        "Valley Ledger",
        "Sana Albrecht",
        "2026-02-18",
        "Pellham market hall reopens with twenty new stalls",
        [
            "The covered market hall in Pellham reopened on Tuesday with twenty new stalls after a fire closed it "
            "last autumn.",
            "The market's manager, Greta Oyelaran, said rents for the first year are held at last year's level.",
            "Traders said that about 3,000 shoppers came through the doors on the first morning.",
        ],
    ),
    (
        "rail-timetable",
        "Harrowdale Courier",
        "Teodor Lindqvist",
        "2026-02-21",
        "Valley railway adds an evening train to Wenmark",
        [
            "The valley railway will run a last train from Aldwick to Wenmark at 23:10 from next month, the "
            "operator said on Friday.",
            "The operator's spokesman, Ruth Abara, said the late train had been the most requested change in a "
            "survey of 4,200 passengers.",
            "Tickets bought for the earlier train will be accepted on the new service for the first two weeks.",
        ],
    ),
    (
        "museum-donation",
        "Valley Ledger",
        "Mira Okonkwo-Lind",
        "2026-02-24",
        "Tolland museum receives a collection of old river maps",
        [
            "The Tolland river museum has been given 140 hand-drawn maps of the valley's rivers by the family of a "
            "retired surveyor.",
            "The museum's curator, Elias Brandt-Moyo, said the oldest map dates from 1821 and shows a ford that "
            "no longer exists.",
            "The maps will go on show in the autumn once they have been cleaned and photographed.",
        ],
    ),
]

BOILERPLATE_TOP = """
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies or manage your
preferences in our cookie settings.</div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather</a></li><li><a href="/subscribe">Subscribe today and save half</a></li></ul></nav>
"""
BOILERPLATE_BOTTOM = """
<aside class="related"><h3>Related stories</h3><ul>
<li><a href="/x1">Ten things to do in the valley this weekend</a></li>
<li><a href="/x2">Opinion: why the valley needs a second bridge</a></li></ul></aside>
<footer><p>Copyright 2026 Valley Media Group. All rights reserved.</p><p>Terms of use | Privacy policy |
Contact us | Advertise with us</p></footer>
"""


def story_page(slug: str) -> str:
    """A saved page of one invented story, with menus, a cookie notice and related stories around it."""
    _, outlet, author, day, title, paragraphs = next(s for s in STORIES if s[0] == slug)
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} | {escape(outlet)}</title>
<meta property="og:title" content="{escape(title)}">
<meta property="og:site_name" content="{escape(outlet)}">
<meta name="author" content="{escape(author)}">
<meta property="article:published_time" content="{day}T08:30:00+00:00">
</head><body>{BOILERPLATE_TOP}
<main><article><h1>{escape(title)}</h1>
<p class="byline">By {escape(author)}, <time datetime="{day}">{day}</time></p>
{body}</article></main>{BOILERPLATE_BOTTOM}</body></html>"""


def rss_feed(base: str, slugs: list[str]) -> str:
    """An RSS 2.0 feed whose items link to the stories' pages on ``base``."""
    items = []
    for slug in slugs:
        _, _, _, day, title, paragraphs = next(s for s in STORIES if s[0] == slug)
        stamp = time.strftime("%a, %d %b %Y 08:30:00 +0000", time.strptime(day, "%Y-%m-%d"))
        items.append(
            f"<item><title>{escape(title)}</title><link>{base}/news/{slug}.html</link>"
            f"<pubDate>{stamp}</pubDate><description>{escape(paragraphs[0])}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Valley news</title>'
        f"<link>{base}/</link><description>Stories from the valley</description>{''.join(items)}</channel></rss>"
    )


@dataclass
class Reply:
    """What the site answers at one path."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    send_length: bool = True
    """False: no Content-Length, the body ends when the connection closes."""


@dataclass
class LocalSite:
    """The site's routes (change them while it runs) and its address."""

    base: str = ""
    routes: dict[str, Reply] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def page(self, path: str, html: str) -> str:
        """Serve ``html`` at ``path``; returns its URL."""
        self.routes[path] = Reply(html.encode("utf-8"))
        return self.base + path

    def feed(self, path: str, slugs: list[str]) -> str:
        """Serve an RSS feed of ``slugs`` at ``path`` (and each story's page); returns its URL."""
        for slug in slugs:
            self.page(f"/news/{slug}.html", story_page(slug))
        self.routes[path] = Reply(rss_feed(self.base, slugs).encode("utf-8"), "application/rss+xml")
        return self.base + path


@contextmanager
def serve_site() -> Iterator[LocalSite]:
    """A LocalSite on a free port of 127.0.0.1, stopped at the end."""
    site = LocalSite()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            reply = site.routes.get(self.path)
            if reply is None:
                self.send_error(404, "Not Found")
                return
            if reply.delay_s:
                time.sleep(reply.delay_s)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                if reply.send_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
