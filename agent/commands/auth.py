"""`agent auth`: sign in to a built-in OAuth provider once, and see where each login's token comes from."""

from __future__ import annotations

import json
from typing import Literal

import typer
from rich.markup import escape

from agent.commands._context import EXIT_FAILURE, app_context, fail, out
from agent.config import Settings, TokenSourceSettings
from agent.mail.oauth import Service, TokenError
from agent.mail.oauth_providers import MICROSOFT_SCOPES, GoogleSignIn, MicrosoftSignIn

auth_app = typer.Typer(help="OAuth 2.0 sign-in for IMAP and SMTP (auth = \"xoauth2\").", no_args_is_help=True)


def _oauth_logins(settings: Settings) -> list[tuple[Service, str, str, TokenSourceSettings]]:
    """(service, config key, username, token source) for each login configured with xoauth2."""
    found: list[tuple[Service, str, str, TokenSourceSettings]] = []
    imap, smtp = settings.inbox.imap, settings.smtp
    if settings.inbox.backend == "imap" and imap.auth == "xoauth2" and imap.oauth2_token is not None:
        found.append(("imap", "inbox.imap.oauth2_token", imap.username, imap.oauth2_token))
    if smtp.auth == "xoauth2" and smtp.oauth2_token is not None:
        found.append(("smtp", "smtp.oauth2_token", smtp.username, smtp.oauth2_token))
    return found


def _describe(token: TokenSourceSettings) -> str:
    if token.env:
        return f"environment variable {token.env}"
    if token.file:
        return f"file {token.file}"
    if token.command:
        return f"command {token.command.split()[0]}"
    kind = "service account" if token.service_account_file else "sign-in"
    signed_in = token.state_file is not None and token.state_file.is_file()
    state = f"{token.state_file} ({'present' if signed_in else 'missing: run `agent auth login ' + str(token.provider) + '`'})"
    return f"provider {token.provider} ({kind}); state {state}" if kind == "sign-in" else f"provider {token.provider} ({kind})"


@auth_app.command("login")
def login(
    ctx: typer.Context,
    provider: str = typer.Argument(..., help="microsoft (device code) or google (browser on a loopback redirect)."),
) -> None:
    """Sign in once; the refresh token is kept (mode 0600) in the provider's state_file."""
    if provider not in ("microsoft", "google"):
        fail(f"unknown provider {provider!r}: use microsoft or google")
    chosen: Literal["microsoft", "google"] = "microsoft" if provider == "microsoft" else "google"
    settings = app_context(ctx).settings()
    logins = [entry for entry in _oauth_logins(settings) if entry[3].provider == chosen]
    if not logins:
        fail(escape(f"no login uses provider {chosen!r}: set oauth2_token = {{ provider = \"{chosen}\", ... }} "
                    "under [inbox.imap] or [smtp] with auth = \"xoauth2\""))
    _, key, username, token = logins[0]
    try:
        if chosen == "microsoft":
            scopes = sorted({scope for service, _, _, t in logins if t == token for scope in MICROSOFT_SCOPES[service]})
            who = MicrosoftSignIn(token, key).login_device_flow(scopes, lambda text: out.print(text, highlight=False))
            out.print(f"signed in as {who or username}; refresh token kept in {token.state_file}", highlight=False)
        else:
            GoogleSignIn(token, key, username).login_installed_app(lambda text: out.print(text, highlight=False))
    except TokenError as exc:
        fail(escape(str(exc)), EXIT_FAILURE)


@auth_app.command("status")
def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Which login uses which token source (never a token)."""
    settings = app_context(ctx).settings()
    rows = [{"login": service, "key": key, "username": user, "source": _describe(t)} for service, key, user, t in _oauth_logins(settings)]
    if as_json:
        print(json.dumps(rows))
        return
    if not rows:
        out.print("no login uses xoauth2 (auth = \"password\" everywhere)")
    for row in rows:
        out.print(f"{row['login']}: {row['username']} via {row['source']}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(auth_app, name="auth")
