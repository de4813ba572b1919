"""The Gradio UI: build_app(assistant) builds the page; nothing launches on import."""
