"""The one settings object: defaults that work, overridable by env (ASSISTANT_*) or assistant.toml."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class EmbeddingSettings(BaseModel):
    """Which sentence-transformers model embeds chunks and questions."""

    model_config = {"extra": "forbid"}
    model_name: str = Field("all-MiniLM-L6-v2", description="Embedder name recorded in the store.")
    model_path: Path | None = Field(
        None, description="Directory of a sentence-transformers model; default: the installed package."
    )
    batch_size: int = Field(32, ge=1, description="Texts embedded per batch.")
    max_seq_tokens: int = Field(256, ge=16, description="Word pieces the embedder reads before truncating.")
    ingest_encoder: Literal["onnx-int8", "torch"] = Field(
        "onnx-int8",
        description="How ingest runs the model: ONNX Runtime with int8 weights (about twice as fast; built once "
        "from the installed model into the model cache; vectors agree with float32 to a cosine of about 0.99) or "
        "torch in float32 (the exact vectors). Questions are always embedded in float32.",
    )
    numpy_up_to: int = Field(
        8,
        ge=0,
        description="Calls with at most this many texts (questions) run the model in numpy, without importing torch "
        "(6-7 s); larger ones (ingest) use sentence-transformers. 0: always sentence-transformers.",
    )


class ChunkingSettings(BaseModel):
    """How articles are cut into chunks."""

    model_config = {"extra": "forbid"}
    max_tokens: int = Field(
        200, ge=16, description="Upper bound on a chunk's word pieces (must stay under the embedder window)."
    )
    overlap_sentences: int = Field(1, ge=0, description="Sentences repeated at the start of the next chunk.")


class RetrievalSettings(BaseModel):
    """Hybrid retrieval and evidence selection."""

    model_config = {"extra": "forbid"}
    top_k: int = Field(8, ge=1, le=50, description="Chunks kept after fusing dense and lexical results.")
    candidates: int = Field(20, ge=1, description="Candidates fetched from each retriever before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    time_pool: int = Field(
        20, ge=1, le=100, description="Passages fetched before time weighs them (when a question has an as_of date)."
    )
    window_half_life_days: float = Field(
        7.0, ge=0, description="Days outside the days a question names after which a passage counts half (0: off)."
    )
    recency_half_life_days: float = Field(
        365.0,
        ge=0,
        description="Age on the as_of date after which a passage counts half, when no days are named: a news "
        "question asks about the story as it stands (undated articles then count undated_weight; 0: off).",
    )
    time_weight_floor: float = Field(
        0.5,
        ge=0,
        le=1,
        description="The least an old passage counts (0..1): dates break ties among relevant stories, they do not "
        "lift an unrelated story of the right week above a related older one.",
    )
    undated_weight: float = Field(
        0.8,
        ge=0,
        le=1,
        description="What a passage of an undated article counts when the question names days "
        "(or with the recency weight on).",
    )
    sentences_per_article: int = Field(
        2, ge=0, le=20, description="Most evidence sentences from one article, so several are read (0: no limit)."
    )
    evidence_sentences: int = Field(3, ge=1, le=20, description="Sentences shown to the model as sources.")
    article_leads: bool = Field(
        True,
        description="Also choose evidence from the headline and opening of every retrieved article (news puts "
        "the answer there), not only from the retrieved chunks.",
    )
    min_relevance: float = Field(
        0.30, description="Below this best sentence relevance the engine abstains without asking the model."
    )
    missing_terms_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Abstain before asking the model when at least this share of the question's names and figures "
        "are in no retrieved passage (0: when any one is missing).",
    )
    quote_min_coverage: float = Field(
        0.55,
        description="When the model says the sources don't answer but one sentence holds this share of the "
        "question's words, quote that sentence instead (status fallback).",
    )
    fallback_min_relevance: float = Field(
        0.50, description="When the model's answers fail verification, quote the best sentence only above this."
    )


class LLMSettings(BaseModel):
    """Which language model writes answers."""

    model_config = {"extra": "forbid"}
    backend: Literal["llama_cpp", "openai", "extractive"] = Field(
        "llama_cpp", description="llama_cpp (local GGUF), openai (any compatible server) or extractive."
    )
    model: str = Field(
        "qwen2.5-coder-1.5b",
        description="llama_cpp: 'qwen2.5-coder-1.5b' (default), 'qwen2.5-coder-0.5b' (faster), 'gemma3-270m' or a "
        ".gguf path; openai: model name.",
    )
    base_url: str | None = Field(None, description="OpenAI-compatible server URL, e.g. http://127.0.0.1:8000/v1.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the server's API key.")
    n_ctx: int = Field(4096, ge=512, description="Context window given to llama.cpp.")
    n_threads: int | None = Field(None, description="CPU threads for llama.cpp; default: all cores.")
    max_tokens: int = Field(128, ge=8, le=2048, description="Upper bound on generated tokens.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature (0 = greedy).")
    timeout_s: float = Field(60.0, gt=0, description="Timeout for an OpenAI-compatible server call.")
    prompt_states: bool = Field(
        True,
        description="llama_cpp: save the evaluated start of each prompt (instructions, worked examples) in "
        "data_dir/models/prompt-states, so that later questions and processes evaluate only their own part.",
    )


class TrustSettings(BaseModel):
    """How an answer's confidence is estimated and turned into a status."""

    model_config = {"extra": "forbid"}
    calibrated: bool = Field(
        True,
        description="Give answers a calibrated confidence and a status from it (verified / unconfirmed / abstained); "
        "off: every grounded answer is 'unconfirmed' (used to collect calibration data).",
    )
    check: bool = Field(
        False,
        description="Also ask the model, in a second role, whether the cited text gives the answer (off: measured "
        "to add nothing for the default model; costs a second model call).",
    )
    follow_up_check: bool = Field(
        False, description="Also ask the answering chat itself whether its answer is stated (experimental signal)."
    )
    consistency_samples: int = Field(
        3,
        ge=0,
        le=10,
        description="Answers sampled again for a written answer that self-consistency could verify (its confidence "
        "at or above the calibrator's consistency gate); how many of them agree with it feeds the consistency stage. "
        "0: never sampled, so a written answer is verified only by its first confidence.",
    )
    consistency_temperature: float = Field(0.8, gt=0.0, le=2.0, description="Temperature of those samples.")
    sample_all: bool = Field(
        False,
        description="Sample every written answer that could be verified, whatever its confidence (for calibration "
        "runs: the consistency stage is fitted on them).",
    )
    calibration_file: Path | None = Field(
        None, description="A calibrator JSON (from `assistant eval calibrate`); default: the one shipped for the model."
    )
    stale_after_days: int = Field(
        30,
        ge=0,
        description="When every article an answer cites is older than this many days on the as_of date, the answer "
        "says how old its newest source is (0: never).",
    )
    abstain_below: float | None = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="Abstain instead of answering when the confidence is below this (an answer shown is then more "
        "likely right than 1 in 10; 0.25 was measured to withhold two thirds of the right answers on news weeks, "
        "bench/floor.py); None: the calibrator's fitted floor, which maximizes accuracy on its calibration "
        "mix (half of SQuAD 2.0 is unanswerable, so that floor also drops right answers on ordinary questions).",
    )


class CalculationSettings(BaseModel):
    """Questions that ask for arithmetic: the model writes the calculation, the engine computes it."""

    model_config = {"extra": "forbid"}
    enabled: bool = Field(
        True, description="Route questions that ask for a sum, difference, count, span or share through calculation."
    )
    evidence_sentences: int = Field(
        8, ge=1, le=30, description="Sentences shown to the model for a calculation (operands may be far apart)."
    )
    max_tokens: int = Field(160, ge=16, le=1024, description="Upper bound on the tokens of a written calculation.")
    check: bool = Field(
        True, description="Ask the model, in a second role, whether the calculation answers the question (a signal)."
    )
    one_article: bool = Field(
        True,
        description="Refuse a calculation whose operands come from different articles (figures of different stories"
        " may describe different events); the question then takes the ordinary path.",
    )


class FetchSettings(BaseModel):
    """Fetching pages and feeds the user names by URL (nothing is fetched otherwise)."""

    model_config = {"extra": "forbid"}
    timeout_s: float = Field(20.0, gt=0, description="Seconds to connect, and between bytes read, before giving up.")
    max_bytes: int = Field(5_000_000, ge=1, description="Replies larger than this are refused (pages and feeds).")
    max_redirects: int = Field(5, ge=0, le=20, description="Redirects followed before giving up.")
    max_feed_items: int = Field(200, ge=1, description="Items of one feed ingested per run (the newest first).")
    user_agent: str = Field(
        "news-assistant/1 (+archive of articles the user asked for)", description="User-Agent sent with each request."
    )


class UISettings(BaseModel):
    """The Gradio chat UI."""

    model_config = {"extra": "forbid"}
    host: str = Field("127.0.0.1", description="Address the UI binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port the UI listens on.")
    share: bool = Field(False, description="Create a public Gradio share link (off by default).")
    auth_user: str | None = Field(None, description="Basic-auth user name; auth is on when set.")
    auth_password: str | None = Field(None, description="Basic-auth password.")
    concurrency: int = Field(
        4, ge=1, description="Requests the UI works on at once (the queue holds 50x more; LLM calls are serialized)."
    )


class Settings(BaseSettings):
    """All configuration of the assistant, in one place."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_nested_delimiter="__",
        extra="forbid",
        toml_file="assistant.toml",
    )

    data_dir: Path = Field(Path(".assistant"), description="Where the store and its write lock live.")
    model_cache: Path | None = Field(
        None,
        description="Where assembled model files (and saved prompt states) are kept, shared by every data dir; "
        "default: $XDG_CACHE_HOME/assistant/models or ~/.cache/assistant/models. A model already assembled in "
        "data_dir/models (before this setting existed) is still used from there.",
    )
    corpus_dir: Path = Field(Path("corpus"), description="Folder ingested by default.")
    chroma_url: str | None = Field(
        None, description="Chroma server URL (http://host:port); unset = embedded store in data_dir."
    )
    chroma_token: SecretStr | None = Field(
        None, description="Token sent to the Chroma server (Authorization: Bearer and X-Chroma-Token headers)."
    )
    store_retries: int = Field(
        3, ge=0, le=10, description="Retries of a Chroma server call that could not connect (waits double each time)."
    )
    store_retry_wait_s: float = Field(0.5, ge=0, description="Wait before the first retry of a Chroma server call.")
    store_sync_s: float = Field(
        1.0,
        ge=0,
        description="How often, at most, a process checks the store's change log for articles another host wrote "
        "or removed (one count call) before it searches; 0 checks on every search.",
    )
    writer_stale_s: float = Field(
        30.0,
        gt=0,
        description="A writer claim on a Chroma server whose heartbeat is older than this is taken over (its host "
        "is gone); a live writer refreshes it every quarter of this.",
    )
    collection: str = Field("articles", description="Chroma collection name.")
    lexical_engine: Literal["tantivy"] = Field(
        "tantivy", description="Lexical (BM25) engine kept beside Chroma in data_dir/lexical (assistant/lexical.py)."
    )
    max_question_chars: int = Field(1000, ge=10, description="Longest question accepted.")
    max_file_bytes: int = Field(20_000_000, ge=1, description="Files larger than this are skipped at ingest.")
    near_duplicate_threshold: float = Field(
        0.9,
        ge=0.0,
        le=1.0,
        description="A new article whose 5-word shingles overlap a stored article's this much (estimated "
        "Jaccard) is skipped at ingest as a near-duplicate; 1 skips only copies with identical shingles.",
    )
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    trust: TrustSettings = Field(default_factory=TrustSettings)
    calculation: CalculationSettings = Field(default_factory=CalculationSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    ui: UISettings = Field(default_factory=UISettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order of precedence: arguments, environment, assistant.toml."""
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def chroma_path(self) -> Path:
        """Directory of the embedded Chroma store."""
        return self.data_dir / "chroma"

    @property
    def model_cache_dir(self) -> Path:
        """Directory where assembled model files are kept: one per user, not one per data dir."""
        if self.model_cache is not None:
            return self.model_cache.expanduser()
        return default_model_cache()

    @property
    def legacy_model_dir(self) -> Path:
        """Where data dirs made before the shared cache assembled their own copy (still used when it holds one)."""
        return self.data_dir / "models"


def default_model_cache() -> Path:
    """The per-user model cache: $XDG_CACHE_HOME/assistant/models, else ~/.cache/assistant/models."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "assistant" / "models"
