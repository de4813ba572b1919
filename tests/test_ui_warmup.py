"""The UI loads its models in the background at start."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FakeLLM


class CountingLLM(FakeLLM):
    """A fake model that records when it was first used (loaded)."""

    def __init__(self) -> None:
        super().__init__()
        self.token_counts = 0

    def count_tokens(self, text: str) -> int:
        self.token_counts += 1
        return super().count_tokens(text)


def test_warm_up_loads_embedder_store_and_model_and_reads_the_prompt_start_before_the_first_question(
    fake_assistant_factory, tiny_corpus: Path
) -> None:
    from assistant.ui.app import warm_up_in_background

    llm = CountingLLM()
    assistant = fake_assistant_factory(llm=llm)
    assistant.ingest([tiny_corpus])
    calls_before = assistant.embedder.calls
    warm_up_in_background(assistant).join(timeout=120)
    assert assistant.embedder.calls == calls_before + 1
    assert llm.token_counts == 1, "the model was loaded"
    (prompt,) = llm.prompts
    assert llm.fixed_messages == [len(prompt) - 1], "it read the fixed start of the answer prompt (one token written)"


def test_a_failing_warm_up_does_not_raise(fake_assistant_factory) -> None:
    from assistant.ui.app import warm_up_in_background

    thread = warm_up_in_background(fake_assistant_factory())  # no store yet: StoreMissingError is only logged
    thread.join(timeout=120)
    assert not thread.is_alive()
