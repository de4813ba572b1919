"""Start the chat UI: ``python app.py [--host H] [--port P]``, the same as ``assistant serve`` (same settings and
data dir, and the same one-line errors for bad settings, a port in use or half-set auth)."""

from __future__ import annotations

import sys

from assistant.cli import main

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "serve", *sys.argv[1:]]
    main()
