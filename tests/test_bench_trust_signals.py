"""bench/trust_signals.py scores only the answers the model wrote in words."""

from bench.trust_signals import written_answers


def test_written_answers_leave_out_abstained_computed_and_uncited_cases() -> None:
    quote = [{"doc_id": "d", "quote": "900 troops."}]
    cases = [
        {"id": "written", "status": "unconfirmed", "citations": quote, "signals": {"calculated": 0.0}},
        {"id": "withheld", "status": "abstained", "citations": quote, "signals": {}},
        {"id": "computed", "status": "verified", "citations": quote, "signals": {"calculated": 1.0}},
        {"id": "quoteless", "status": "unconfirmed", "citations": [], "signals": {}},
        {"id": "no signals", "status": "fallback", "citations": quote, "signals": None},
    ]
    assert [c["id"] for c in written_answers({"cases": cases})] == ["written", "no signals"]
