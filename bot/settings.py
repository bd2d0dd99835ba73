"""One typed configuration for the whole tutor, read from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("ml-tutor", appauthor=False))


class Settings(BaseSettings):
    """Everything configurable. Each field maps to the environment variable in its alias."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    anthropic_api_key: SecretStr | None = Field(
        default=None, alias="ANTHROPIC_API_KEY",
        description="Claude is used when set; otherwise the tutor runs offline.")
    anthropic_base_url: str | None = Field(
        default=None, alias="ANTHROPIC_BASE_URL",
        description="Alternative Messages API endpoint (tests point it at a local fake).")
    claude_model: str = Field(
        default="claude-sonnet-5", alias="TUTOR_CLAUDE_MODEL",
        description="Model for teaching and quiz generation.")
    claude_grader_model: str = Field(
        default="claude-sonnet-5", alias="TUTOR_CLAUDE_GRADER_MODEL",
        description="Model for grading answers.")
    llm_timeout_s: float = Field(default=60.0, alias="TUTOR_LLM_TIMEOUT")

    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_base_url: str | None = Field(
        default=None, alias="TELEGRAM_BASE_URL",
        description="Bot API server, e.g. a self-hosted one; default is Telegram's.")
    allowed_users: str = Field(
        default="", alias="TUTOR_ALLOWED_USERS",
        description="Comma-separated Telegram user ids allowed to use the bot.")
    telegram_webhook_url: str | None = Field(
        default=None, alias="TELEGRAM_WEBHOOK_URL",
        description="Public HTTPS URL for webhook mode; long polling when unset.")
    telegram_webhook_listen: str = Field(default="0.0.0.0", alias="TELEGRAM_WEBHOOK_LISTEN")
    telegram_webhook_port: int = Field(default=8443, alias="TELEGRAM_WEBHOOK_PORT")
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, alias="TELEGRAM_WEBHOOK_SECRET",
        description="Secret Telegram echoes in a header, so forged webhook calls are refused.")
    rate_limit_per_minute: int = Field(
        default=20, alias="TUTOR_RATE_LIMIT_PER_MINUTE",
        description="Messages one Telegram learner may send per minute.")

    data_dir: Path = Field(default_factory=_default_data_dir, alias="TUTOR_DATA_DIR")
    database_url: str | None = Field(
        default=None, alias="TUTOR_DATABASE_URL",
        description="SQLAlchemy URL; default is a SQLite file in the data dir.")
    chroma: str | None = Field(
        default=None, alias="TUTOR_CHROMA",
        description="A directory for an on-disk Chroma, or http(s)://host:port for a server.")
    notes_dir: Path | None = Field(
        default=None, alias="TUTOR_NOTES_DIR",
        description="Use another curriculum directory (default: the bundled notes).")
    learner: str = Field(default="local", alias="TUTOR_LEARNER",
                         description="Learner name used by the terminal chat.")
    session_idle_minutes: int = Field(
        default=120, alias="TUTOR_SESSION_IDLE_MINUTES",
        description="A pause longer than this starts a new study session.")
    max_message_chars: int = Field(default=4000, alias="TUTOR_MAX_MESSAGE_CHARS")
    scheduler: Literal["fsrs", "sm2"] = Field(
        default="fsrs", alias="TUTOR_SCHEDULER",
        description="Spaced repetition: FSRS-6 (default) or SM-2 as in the learner's tracker.")
    daily_review_cap: int = Field(
        default=30, ge=0, alias="TUTOR_DAILY_REVIEW_CAP",
        description="Review questions asked per learner per UTC day; beyond it, new topics.")

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def claude_enabled(self) -> bool:
        """True when an API key is configured."""
        return bool(self.anthropic_api_key and self.anthropic_api_key.get_secret_value())

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'tutor.sqlite3'}"

    @property
    def checkpoint_path(self) -> Path:
        """SQLite file that holds LangGraph checkpoints (pending quizzes)."""
        return self.data_dir / "checkpoints.sqlite3"

    @property
    def chroma_location(self) -> str:
        """Chroma directory or server URL."""
        return self.chroma or str(self.data_dir / "chroma")

    @property
    def allowed_user_ids(self) -> frozenset[int]:
        """Telegram user ids on the allow-list (entries that are not numbers are ignored)."""
        parts = self.allowed_users.replace(" ", "").split(",")
        return frozenset(int(p) for p in parts if p.lstrip("-").isdigit())

    @property
    def telegram_urls(self) -> tuple[str, str]:
        """(Bot API base URL, file download base URL) — Telegram's unless a server is set."""
        base = (self.telegram_base_url or "https://api.telegram.org/bot").rstrip("/")
        if not base.endswith("/bot"):
            base += "/bot"
        return base, base[: -len("/bot")] + "/file/bot"

    def ensure_dirs(self) -> None:
        """Create the data directory if needed."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
