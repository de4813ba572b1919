"""What the page is made of besides Python: its example questions, labels, scripts and style."""

from __future__ import annotations

EXAMPLE_QUESTIONS = [
    "How many U.S. troops are in eastern Syria?",
    "How many rockets were launched from Zummar?",
    "Near which air base were the drones shot down?",
]
UPLOAD_TYPES = [".md", ".txt", ".html", ".pdf", ".jsonl"]
SEARCHING = "_Searching the articles…_"
CLICK_HINT = "Click a citation to see the cited sentence highlighted in its article."

# Chips and [n] links both call trigger('click', {number}); the document listener catches links in the chat.
CITATIONS_JS = """
const pick = (node) => {
  const n = Number(node.dataset.cite || (node.getAttribute('href') || '').replace(/\\D/g, ''));
  if (!n) return;
  document.querySelectorAll('#citations .chip').forEach(c => c.classList.toggle('active', c.dataset.cite == n));
  trigger('click', {number: n});
};
element.addEventListener('click', (e) => {
  const chip = e.target.closest('.chip[data-cite]');
  if (chip) pick(chip);
});
window.__assistantPickCitation = pick;
if (!window.__assistantCiteLinks) {
  window.__assistantCiteLinks = true;
  document.addEventListener('click', (e) => {
    const link = e.target.closest && e.target.closest('#chat a.cite-link, #chat a[href^="#cite-"]');
    if (!link) return;
    e.preventDefault();
    e.stopPropagation();
    window.__assistantPickCitation(link);
  }, true);
}
"""
# The latest answer's Markdown (kept in a hidden box) to the clipboard; a textarea copy where the API is refused.
COPY_MARKDOWN_JS = """
(text) => {
  if (!text) return [];
  const fallback = () => {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).catch(fallback);
  else fallback();
  return [];
}
"""
SOURCES_JS = """
watch('value', () => {
  const mark = element.querySelector('mark.cited');
  const box = element.querySelector('.article-text');
  if (mark && box) box.scrollTop = Math.max(0, mark.offsetTop - box.offsetTop - box.clientHeight / 3);
});
"""
CSS = """
#citations .answer-meta { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
.status-badge { padding: .15rem .6rem; border-radius: 999px; font-weight: 600; font-size: .85rem; }
.status-verified { background: #dcfce7; color: #166534; }
.status-unconfirmed { background: #fef3c7; color: #92400e; }
.status-fallback { background: #e0e7ff; color: #3730a3; }
.status-abstained { background: #f3f4f6; color: #374151; }
.chip { border: 1px solid #94a3b8; border-radius: 999px; padding: .15rem .6rem; margin: .1rem; cursor: pointer;
        background: #f8fafc; font-size: .85rem; }
.chip:hover, .chip.active { background: #fde68a; border-color: #d97706; }
.timing, .hint { color: #6b7280; font-size: .85rem; }
.ui-error { color: #b91c1c; font-weight: 600; }
a.cite-link { text-decoration: none; font-weight: 600; cursor: pointer; }
.article-head { margin-bottom: .4rem; }
.article-source, .article-date { color: #4b5563; }
.article-text { position: relative; white-space: pre-wrap; max-height: 26rem; overflow-y: auto; line-height: 1.5;
                border: 1px solid #e5e7eb; border-radius: .4rem; padding: .6rem; font-size: .9rem; }
mark.cited { background: #fde047; padding: 0 .1rem; border-radius: .15rem; }
.passages ol { padding-left: 1.2rem; }
.passage { margin-bottom: .4rem; font-size: .85rem; }
.passage .rank { font-family: monospace; color: #2563eb; margin-right: .3rem; }
.confidence { color: #4b5563; font-size: .85rem; }
.ingest-errors { color: #b91c1c; }
table.stats th { text-align: left; padding-right: 1rem; }
table.articles { width: 100%; font-size: .85rem; border-collapse: collapse; }
table.articles th, table.articles td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid #e5e7eb; }
.article-author { color: #4b5563; font-style: italic; }
"""
