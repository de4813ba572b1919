"""Start the chat UI: ``python app.py`` (the same settings and data dir as the ``assistant`` CLI)."""

from __future__ import annotations

from assistant import Assistant, Settings
from assistant.ui.app import serve

if __name__ == "__main__":
    settings = Settings()
    serve(Assistant(settings), settings)
