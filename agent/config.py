"""config.toml -> validated, frozen settings; checked once at start so a typo never surfaces mid-run."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_CONFIG_NAME = "config.toml"
CONFIG_ENV_VAR = "AGENT_CONFIG"


class ConfigError(Exception):
    """A configuration problem, always naming the file and, where there is one, the key."""


class _Section(BaseModel):
    # Unknown keys are errors: a misspelt option must not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(_Section):
    """Where a secret lives: an environment variable or a file. Never the value itself."""

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "Secret":
        if not self.env and not self.file:
            raise ValueError("give `env` (an environment variable name) or `file` (a path)")
        return self


class DatabaseSettings(_Section):
    url: str = "sqlite:///records-agent.db"
    echo: bool = False


class ArchiveSettings(_Section):
    path: Path = Path("mailbox")


class AttachmentSettings(_Section):
    path: Path = Path("attachments")
    max_bytes: Annotated[int, Field(gt=0)] = 25 * 1024 * 1024


class ImapSettings(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(gt=0, lt=65536)] = 993
    security: Literal["tls", "starttls", "plain"] = "tls"
    verify_certificates: bool = True
    ca_file: Path | None = None
    username: str = ""
    password: Secret | None = None
    folder: str = "INBOX"
    sent_folder: str | None = None
    batch_size: Annotated[int, Field(gt=0, le=5000)] = 500
    idle: bool = True
    idle_renew_seconds: Annotated[int, Field(gt=0, le=29 * 60)] = 25 * 60
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0

    @model_validator(mode="after")
    def _plain_only_on_loopback(self) -> "ImapSettings":
        if self.security == "plain" and self.host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("security = 'plain' is allowed only for a loopback host")
        return self


class InboxSettings(_Section):
    backend: Literal["maildir", "imap"] = "maildir"
    maildir: Path = Path("inbox")
    account: str = "default"
    imap: ImapSettings = ImapSettings()


class SmtpSettings(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(gt=0, lt=65536)] = 587
    security: Literal["tls", "starttls", "plain"] = "starttls"
    verify_certificates: bool = True
    ca_file: Path | None = None
    username: str = ""
    password: Secret | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    max_attempts: Annotated[int, Field(gt=0)] = 8
    per_agency_per_hour: Annotated[int, Field(gt=0)] = 20

    @model_validator(mode="after")
    def _plain_only_on_loopback(self) -> "SmtpSettings":
        if self.security == "plain" and self.host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("security = 'plain' is allowed only for a loopback host")
        return self


class IdentitySettings(_Section):
    name: str = "Records Desk"
    address: str = "records@example.org"
    # records+<token>@example.org gives every request its own reply address.
    plus_addressing: bool = True
    plus_separator: str = "+"
    reference_prefix: str = "RA"
    operators: list[str] = ["operator@example.org"]
    signature: str = ""


class ClassifySettings(_Section):
    review_threshold: Annotated[float, Field(ge=0, le=1)] = 0.6


class CorrectionsSettings(_Section):
    """How operator corrections teach the agent: a reply this similar to a corrected one of the same agency
    takes the corrected label, with this confidence."""

    template_similarity: Annotated[float, Field(gt=0, le=1)] = 0.8
    template_confidence: Annotated[float, Field(ge=0, le=1)] = 0.95


class ScheduleSettings(_Section):
    timezone: str = "America/Los_Angeles"
    poll_seconds: Annotated[float, Field(gt=0)] = 60
    outbox_seconds: Annotated[float, Field(gt=0)] = 30
    deadline_scan_seconds: Annotated[float, Field(gt=0)] = 3600
    digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    digest_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "08:00"


class DaemonSettings(_Section):
    status_file: Path = Path("status.json")
    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class RulesSettings(_Section):
    path: Path = Path("rules")


class Settings(_Section):
    """Everything the agent needs, with every relative path already resolved."""

    database: DatabaseSettings = DatabaseSettings()
    archive: ArchiveSettings = ArchiveSettings()
    attachments: AttachmentSettings = AttachmentSettings()
    inbox: InboxSettings = InboxSettings()
    smtp: SmtpSettings = SmtpSettings()
    identity: IdentitySettings = IdentitySettings()
    classify: ClassifySettings = ClassifySettings()
    corrections: CorrectionsSettings = CorrectionsSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    daemon: DaemonSettings = DaemonSettings()
    rules: RulesSettings = RulesSettings()
    # Not a config key: where the file was read from (set by the loader).
    source: Path = Path(DEFAULT_CONFIG_NAME)

    @property
    def rules_path(self) -> Path:
        return self.rules.path

    @property
    def archive_path(self) -> Path:
        return self.archive.path


def config_path_from(cli_value: Path | None) -> Path:
    """The CLI option wins, then $AGENT_CONFIG, then ./config.toml."""
    if cli_value is not None:
        return cli_value
    env = os.environ.get(CONFIG_ENV_VAR)
    return Path(env) if env else Path(DEFAULT_CONFIG_NAME)


def load_settings(path: Path) -> Settings:
    """Read, validate and resolve a config file; raise ConfigError naming file and key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc}") from exc
    if "source" in data:
        raise ConfigError(f"{path}: key 'source': unknown key")
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None
    settings = _resolve_paths(settings, path.resolve().parent)
    return settings.model_copy(update={"source": path.resolve()})


def _describe(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"{path}: key '{key}': {msg}")
    return "\n".join(lines)


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    """Paths in the file are relative to the file, not to wherever the daemon was started."""

    def fix(p: Path | None) -> Path | None:
        if p is None:
            return None
        p = p.expanduser()
        return p if p.is_absolute() else (base / p)

    def fix_secret(s: Secret | None) -> Secret | None:
        return s.model_copy(update={"file": fix(s.file)}) if s and s.file else s

    imap = settings.inbox.imap
    imap = imap.model_copy(update={"ca_file": fix(imap.ca_file), "password": fix_secret(imap.password)})
    smtp = settings.smtp
    smtp = smtp.model_copy(update={"ca_file": fix(smtp.ca_file), "password": fix_secret(smtp.password)})
    return settings.model_copy(
        update={
            "database": settings.database.model_copy(update={"url": _resolve_db_url(settings.database.url, base)}),
            "archive": settings.archive.model_copy(update={"path": fix(settings.archive.path)}),
            "attachments": settings.attachments.model_copy(update={"path": fix(settings.attachments.path)}),
            "inbox": settings.inbox.model_copy(update={"maildir": fix(settings.inbox.maildir), "imap": imap}),
            "smtp": smtp,
            "daemon": settings.daemon.model_copy(update={"status_file": fix(settings.daemon.status_file)}),
            "rules": settings.rules.model_copy(update={"path": fix(settings.rules.path)}),
        }
    )


def _resolve_db_url(url: str, base: Path) -> str:
    """Make a relative SQLite file path absolute against the config file's folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        rest = url[len(prefix):]
        return prefix + str(base / rest)
    return url


def read_secret(secret: Secret | None, what: str) -> str:
    """Fetch a secret's value at the moment it is needed; the error names the source, never the value."""
    if secret is None:
        raise ConfigError(f"{what}: no password configured (set `password = {{ env = \"NAME\" }}`)")
    if secret.env:
        value = os.environ.get(secret.env)
        if value is None:
            raise ConfigError(f"{what}: environment variable {secret.env} is not set")
        return value
    assert secret.file is not None
    try:
        return secret.file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read secret file {secret.file}: {exc.strerror}") from None


def check_secrets(settings: Settings) -> None:
    """Fail at start, not at the first poll, when a backend needs a secret that is missing."""
    if settings.inbox.backend == "imap" and settings.inbox.imap.password is not None:
        read_secret(settings.inbox.imap.password, f"{settings.source}: key 'inbox.imap.password'")
    if settings.smtp.password is not None:
        read_secret(settings.smtp.password, f"{settings.source}: key 'smtp.password'")


def as_dict(settings: Settings) -> dict[str, Any]:
    """A JSON-safe view for `agent config show`; secrets appear only as their source."""
    return settings.model_dump(mode="json")
