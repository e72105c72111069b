"""config.toml -> validated, frozen settings; checked once at start so a typo never surfaces mid-run."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent import secret_registry
from agent.resources import bundled_rules

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


class TokenSourceSettings(_Section):
    """Where an OAuth 2.0 access token comes from: a variable, a file, a command, or a provider's refresh token.

    Exactly one of `env`, `file`, `command` or `provider`; the provider keys apply to `provider` only.
    """

    env: str | None = None
    file: Path | None = None
    # A program that prints a fresh access token on stdout (msmtp's passwordeval, isync's PassCmd).
    command: str | None = None
    command_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    provider: Literal["microsoft", "google"] | None = None
    client_id: str = ""  # microsoft: the app registration's id
    tenant: str = "organizations"  # microsoft: the directory (tenant) id or domain
    authority_host: str = "https://login.microsoftonline.com"  # microsoft: sovereign clouds differ
    client_secrets_file: Path | None = None  # google installed-app flow: the downloaded client JSON
    service_account_file: Path | None = None  # google domain-wide delegation: the key JSON
    # Refresh tokens live here (mode 0600); default oauth-<provider>.json beside the config file.
    state_file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "TokenSourceSettings":
        given = [k for k in ("env", "file", "command", "provider") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of `env`, `file`, `command` or `provider`")
        if self.provider == "microsoft" and not self.client_id:
            raise ValueError("provider 'microsoft' needs `client_id` (the app registration's id)")
        if self.provider == "google" and not (self.client_secrets_file or self.service_account_file):
            raise ValueError("provider 'google' needs `client_secrets_file` or `service_account_file`")
        return self


def _check_auth(auth: str, username: str, token: TokenSourceSettings | None) -> None:
    """xoauth2 needs a user and a token source; password auth is checked as before."""
    if auth == "xoauth2":
        if token is None:
            raise ValueError("auth = 'xoauth2' needs `oauth2_token` (e.g. oauth2_token = { env = \"NAME\" })")
        if not username:
            raise ValueError("auth = 'xoauth2' needs `username` (the mailbox's address)")


class DatabaseSettings(_Section):
    url: str = "sqlite:///records-agent.db"
    echo: bool = False


class ArchiveSettings(_Section):
    path: Path = Path("mailbox")


class AttachmentSettings(_Section):
    path: Path = Path("attachments")
    max_bytes: Annotated[int, Field(gt=0)] = 25 * 1024 * 1024
    # Reading attached letters (agent.documents): in a child process held to these limits per file.
    read: bool = True
    ocr: bool = True  # scans and image-only PDFs; off, they stay "ocr_pending"
    read_seconds: Annotated[float, Field(gt=0)] = 20.0
    read_memory_mb: Annotated[int, Field(ge=100)] = 500
    ocr_pages: Annotated[int, Field(ge=1)] = 20
    ocr_seconds: Annotated[float, Field(gt=0)] = 180.0


class ImapSettings(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(gt=0, lt=65536)] = 993
    security: Literal["tls", "starttls", "plain"] = "tls"
    verify_certificates: bool = True
    ca_file: Path | None = None
    username: str = ""
    password: Secret | None = None
    auth: Literal["password", "xoauth2"] = "password"
    oauth2_token: TokenSourceSettings | None = None
    folder: str = "INBOX"
    # Read these too, each with its own checkpoint (Gmail files some agency mail under "[Gmail]/Spam").
    extra_folders: list[str] = []
    sent_folder: str | None = None
    # Who runs the mailbox. Gmail and Microsoft 365 file mail submitted over SMTP in Sent themselves,
    # so no copy is appended there (sent_folder is still searched when a send is in doubt).
    provider: Literal["generic", "gmail", "microsoft365"] = "generic"
    # On a first run or after a UIDVALIDITY change fetch only mail since this date; by default the
    # first filing date (the earliest request sent), never every message the mailbox ever held.
    since: dt.date | None = None
    # Daily download budget (UTC days); when spent, polling waits for the next day and logs it. 0 = none.
    daily_max_messages: Annotated[int, Field(ge=0)] = 0
    daily_max_bytes: Annotated[int, Field(ge=0)] = 0
    batch_size: Annotated[int, Field(gt=0, le=5000)] = 500
    idle: bool = True
    idle_renew_seconds: Annotated[int, Field(gt=0, le=29 * 60)] = 25 * 60
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0

    @model_validator(mode="after")
    def _plain_only_on_loopback(self) -> "ImapSettings":
        if self.security == "plain" and self.host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("security = 'plain' is allowed only for a loopback host")
        _check_auth(self.auth, self.username, self.oauth2_token)
        if self.folder in self.extra_folders or len(set(self.extra_folders)) != len(self.extra_folders):
            raise ValueError("extra_folders must not repeat a folder (each has one checkpoint)")
        return self

    @property
    def folders(self) -> list[str]:
        """Every folder read, the main one first."""
        return [self.folder, *self.extra_folders]

    @property
    def provider_files_sent(self) -> bool:
        return self.provider in ("gmail", "microsoft365")


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
    auth: Literal["password", "xoauth2"] = "password"
    oauth2_token: TokenSourceSettings | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    max_attempts: Annotated[int, Field(gt=0)] = 8
    per_agency_per_hour: Annotated[int, Field(gt=0)] = 20
    # Hosts whose delivery reports are our own mail server's (Reporting-MTA or the bounce's From domain);
    # `host` always counts. A bounce from elsewhere must fail a recipient of our letter to count.
    bounce_hosts: list[str] = []
    # The whole account, across agencies: providers throttle or lock an account that sends in bursts.
    per_minute: Annotated[int, Field(gt=0)] = 20
    per_day: Annotated[int, Field(gt=0)] = 500
    # Per-command reply timeouts (RFC 5321 section 4.5.3.2); timeout_seconds covers connect and greeting.
    mail_timeout_seconds: Annotated[float, Field(gt=0)] = 300.0  # MAIL FROM, RSET: 5 minutes
    rcpt_timeout_seconds: Annotated[float, Field(gt=0)] = 300.0  # each RCPT TO: 5 minutes
    data_start_timeout_seconds: Annotated[float, Field(gt=0)] = 120.0  # DATA -> 354: 2 minutes
    data_end_timeout_seconds: Annotated[float, Field(gt=0)] = 600.0  # "." -> final reply: 10 minutes
    # Circuit breaker: a refused connection or login pauses the outbox, doubling from pause_seconds.
    pause_seconds: Annotated[float, Field(gt=0)] = 60.0
    pause_max_seconds: Annotated[float, Field(gt=0)] = 3600.0

    @model_validator(mode="after")
    def _plain_only_on_loopback(self) -> "SmtpSettings":
        if self.security == "plain" and self.host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("security = 'plain' is allowed only for a loopback host")
        _check_auth(self.auth, self.username, self.oauth2_token)
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
    # Closing labels (final_records, no_records, denial) stop follow-ups: they need more certainty.
    closing_threshold: Annotated[float, Field(ge=0, le=1)] = 0.85


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
    # The OCR job (scans attached to replies); a poll that leaves scans waiting also brings it forward.
    ocr_seconds: Annotated[float, Field(gt=0)] = 300
    links_seconds: Annotated[float, Field(gt=0)] = 900
    digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    digest_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "08:00"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        # A misspelt zone would otherwise surface as a traceback at the first deadline or digest.
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as 'America/Los_Angeles')") from None
        return value


class DaemonSettings(_Section):
    status_file: Path = Path("status.json")
    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # A Prometheus textfile (node_exporter textfile collector) written with the status; None: not written.
    metrics_file: Path | None = None


class LimitsSettings(_Section):
    """What reading one message may cost; a message over the budget is quarantined with the reason."""

    # Parse + understand run in a separate worker process, stopped at the budget (false: in the daemon, unbounded).
    worker: bool = True
    message_seconds: Annotated[float, Field(gt=0)] = 10.0
    # Memory the worker may grow by while reading one message, above what it holds at rest.
    message_memory_mb: Annotated[int, Field(gt=0)] = 500


# Hosts whose links are fetched by default: the file shares and records portals agencies send records through.
DEFAULT_LINK_HOSTS = [
    "box.com", "boxcloud.com", "dropbox.com", "dropboxusercontent.com", "drive.google.com",
    "docs.google.com", "drive.usercontent.google.com", "sharepoint.com", "onedrive.live.com", "1drv.ms",
    "nextrequest.com", "govqa.us", "mycusthelp.com", "mycusthelp.net", "justfoia.com",
]


class LinksSettings(_Section):
    """Links in replies: which hosts are fetched and what one download may cost (agent/links/)."""

    fetch: bool = True
    # A host matches an entry equal to it or a parent domain of it ("box.com" covers "app.box.com").
    allow_hosts: list[str] = DEFAULT_LINK_HOSTS
    max_bytes: Annotated[int, Field(gt=0)] = 100 * 1024 * 1024
    max_redirects: Annotated[int, Field(ge=0, le=10)] = 3
    timeout_seconds: Annotated[float, Field(gt=0)] = 120.0  # one whole fetch, HEAD and GET
    connect_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    read_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    max_attempts: Annotated[int, Field(gt=0)] = 3
    # Tests only: lets a loopback server stand in for a file share. Never set it in production (SSRF).
    allow_private_addresses: bool = False

    @field_validator("allow_hosts")
    @classmethod
    def _bare_hosts(cls, value: list[str]) -> list[str]:
        hosts = [h.strip().lower().removeprefix("*.").rstrip(".") for h in value]
        bad = [h for h in hosts if not h or "/" in h or ":" in h or "@" in h or " " in h]
        if bad:
            raise ValueError(f"allow_hosts entries are host names (no scheme, port or path): {bad[0]!r}")
        return hosts


class RulesSettings(_Section):
    # None: the rules that ship with the agent (`agent rules init DIR` copies them for editing).
    path: Path | None = None


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
    limits: LimitsSettings = LimitsSettings()
    links: LinksSettings = LinksSettings()
    # Not a config key: where the file was read from (set by the loader).
    source: Path = Path(DEFAULT_CONFIG_NAME)

    @property
    def rules_path(self) -> Path:
        """The configured rules folder, else the bundled one."""
        return self.rules.path if self.rules.path is not None else bundled_rules()

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
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
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

    def fix_token(t: TokenSourceSettings | None) -> TokenSourceSettings | None:
        if t is None:
            return None
        state = t.state_file or (Path(f"oauth-{t.provider}.json") if t.provider else None)
        return t.model_copy(
            update={
                "file": fix(t.file),
                "client_secrets_file": fix(t.client_secrets_file),
                "service_account_file": fix(t.service_account_file),
                "state_file": fix(state),
            }
        )

    imap = settings.inbox.imap
    imap = imap.model_copy(
        update={
            "ca_file": fix(imap.ca_file),
            "password": fix_secret(imap.password),
            "oauth2_token": fix_token(imap.oauth2_token),
        }
    )
    smtp = settings.smtp
    smtp = smtp.model_copy(
        update={
            "ca_file": fix(smtp.ca_file),
            "password": fix_secret(smtp.password),
            "oauth2_token": fix_token(smtp.oauth2_token),
        }
    )
    return settings.model_copy(
        update={
            "database": settings.database.model_copy(update={"url": _resolve_db_url(settings.database.url, base)}),
            "archive": settings.archive.model_copy(update={"path": fix(settings.archive.path)}),
            "attachments": settings.attachments.model_copy(update={"path": fix(settings.attachments.path)}),
            "inbox": settings.inbox.model_copy(update={"maildir": fix(settings.inbox.maildir), "imap": imap}),
            "smtp": smtp,
            "daemon": settings.daemon.model_copy(
                update={"status_file": fix(settings.daemon.status_file), "metrics_file": fix(settings.daemon.metrics_file)}
            ),
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
    else:
        assert secret.file is not None
        try:
            value = secret.file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{what}: cannot read secret file {secret.file}: {exc.strerror}") from None
    secret_registry.remember(value)  # log redaction hides it from now on
    return value


def check_secrets(settings: Settings) -> None:
    """Fail at start, not at the first poll, when a backend needs a secret that is missing."""
    imap, smtp = settings.inbox.imap, settings.smtp
    if settings.inbox.backend == "imap" and imap.auth == "password" and imap.password is not None:
        read_secret(imap.password, f"{settings.source}: key 'inbox.imap.password'")
    if smtp.auth == "password" and smtp.password is not None:
        read_secret(smtp.password, f"{settings.source}: key 'smtp.password'")
    for enabled, token, key in (
        (settings.inbox.backend == "imap" and imap.auth == "xoauth2", imap.oauth2_token, "inbox.imap.oauth2_token"),
        (smtp.auth == "xoauth2", smtp.oauth2_token, "smtp.oauth2_token"),
    ):
        if enabled and token is not None:
            _check_token_source(token, f"{settings.source}: key '{key}'")


def _check_token_source(token: TokenSourceSettings, what: str) -> None:
    """What can be checked without asking a server: the variable is set, the files exist."""
    if token.env is not None and os.environ.get(token.env) is None:
        raise ConfigError(f"{what}: environment variable {token.env} is not set")
    for path in (token.file, token.client_secrets_file, token.service_account_file):
        if path is not None and not path.is_file():
            raise ConfigError(f"{what}: file {path} not found")
    signs_in = token.provider == "microsoft" or (token.provider == "google" and token.service_account_file is None)
    if signs_in and token.state_file is not None and not token.state_file.is_file():
        raise ConfigError(f"{what}: no sign-in yet ({token.state_file}); run `agent auth login {token.provider}`")


def as_dict(settings: Settings) -> dict[str, Any]:
    """A JSON-safe view for `agent config show`; secrets appear only as their source."""
    return settings.model_dump(mode="json")
