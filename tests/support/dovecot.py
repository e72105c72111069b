"""A throwaway Dovecot 2.3 on loopback for the IMAP tests: one server per session, a fresh user per test."""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

from support.oauth_server import Introspection

PASSWORD = "pw"  # the static passdb accepts any user name with this password


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dovecot_problem() -> str | None:
    exe = shutil.which("dovecot")
    if exe is None:
        return "dovecot is not installed (apt-get install dovecot-imapd)"
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    if not version.startswith("2.3"):
        return f"the test config is Dovecot 2.3 syntax; found {version or 'unknown version'}"
    if shutil.which("openssl") is None:
        return "openssl is needed to make the test certificate"
    return None


_STATIC_PASSDB = f"""passdb {{
  driver = static
  args = password={PASSWORD}
}}"""


def _oauth2_passdb(base: Path, introspection_url: str) -> str:
    """XOAUTH2/OAUTHBEARER checked against a loopback introspection endpoint (RFC 7662, POST token=...)."""
    (base / "oauth2.conf.ext").write_text(
        f"introspection_mode = post\nintrospection_url = {introspection_url}\nforce_introspection = yes\n"
        "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
    )
    return f"""passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {base}/oauth2.conf.ext
}}"""


def _config(base: Path, port: int, tls_port: int, passdb: str = _STATIC_PASSDB, mechanisms: str = "plain login") -> str:
    root = os.geteuid() == 0
    if root:
        # imap and imap-login refuse root; mail is accessed as nobody, the package users do the rest.
        identity = "mail_uid = 65534\nmail_gid = 65534\n"
    else:
        me = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        identity = (
            f"mail_uid = {os.geteuid()}\nmail_gid = {os.getegid()}\nfirst_valid_uid = {min(os.geteuid(), 500)}\n"
            f"default_internal_user = {me}\ndefault_internal_group = {group}\ndefault_login_user = {me}\n"
            "service imap-login {\n  chroot =\n}\n"
        )
    anvil_chroot = "" if root else "  chroot =\n"
    return f"""# Throwaway Dovecot for records-agent tests; everything under {base}.
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
instance_name = dc-{base.name}
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
{passdb}
userdb {{
  driver = static
  args = allow_all_users=yes
}}
{identity}mail_home = {base}/mail/%u
mail_location = maildir:~/Maildir
protocol imap {{
  mail_max_userip_connections = 200
}}
service anvil {{
{anvil_chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
ssl = yes
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
"""


class DovecotServer:
    """Start, stop and restart one Dovecot master in its own process group."""

    def __init__(self, introspection_url: str | None = None) -> None:
        # Unix socket paths are capped at 108 bytes and every parent must be traversable by
        # dovecot and nobody: a short 0755 directory straight under /tmp, not pytest's tmp_path.
        self.base = Path(tempfile.mkdtemp(prefix="dc-", dir="/tmp"))
        self.base.chmod(0o755)
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.tls_port = _free_port()
        self.conf = self.base / "dovecot.conf"
        self.cert = self.base / "cert.pem"
        self.proc: subprocess.Popen[bytes] | None = None
        mail = self.base / "mail"
        mail.mkdir()
        if os.geteuid() == 0:
            os.chown(mail, 65534, 65534)
        self._make_cert()
        if introspection_url is None:
            self.conf.write_text(_config(self.base, self.port, self.tls_port))
        else:
            # The OAuth variant: only XOAUTH2/OAUTHBEARER logins, each token asked of the endpoint.
            passdb = _oauth2_passdb(self.base, introspection_url)
            self.conf.write_text(_config(self.base, self.port, self.tls_port, passdb, "xoauth2 oauthbearer"))

    def _make_cert(self) -> None:
        # subjectAltName IP: Python checks the SAN, never the CN, when verifying a host name.
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", str(self.base / "key.pem"), "-out", str(self.cert),
            ],
            check=True,
            capture_output=True,
        )
        (self.base / "key.pem").chmod(0o644)

    @property
    def log(self) -> str:
        path = self.base / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 15.0) -> None:
        starts_before = self.log.count("starting up")
        stderr = open(self.base / "stderr.log", "ab")  # noqa: SIM115 - owned by the child process
        self.proc = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.conf)], stdout=stderr, stderr=stderr, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"dovecot exited with {self.proc.returncode}: "
                    f"{(self.base / 'stderr.log').read_text(errors='replace')[-2000:]}\n{self.log[-2000:]}"
                )
            if self.log.count("starting up") > starts_before and self._greets():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not become ready in {timeout}s:\n{self.log[-2000:]}")

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                return sock.recv(200).startswith(b"* OK")
        except OSError:
            return False

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        # An imap process serving a connected, non-idling client outlives the master: end the whole group.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if proc.poll() is None:
            proc.wait(timeout=5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self._greets():
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def maildir(self, user: str) -> Path:
        return self.base / "mail" / user / "Maildir"

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@dataclass
class ImapAccount:
    """A fresh, empty mailbox on the shared server, and helpers to deliver mail into it."""

    server: DovecotServer
    user: str
    password: str = PASSWORD

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def tls_port(self) -> int:
        return self.server.tls_port

    def client(self, folder: str | None = "INBOX") -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        if folder:
            client.select_folder(folder)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> int:
        """Deliver one message (as an MTA would) and return its UID."""
        client = self.client(folder=None)
        try:
            response = client.append(folder, raw)
        finally:
            client.logout()
        found = re.search(rb"APPENDUID \d+ (\d+)", response or b"")
        return int(found.group(1)) if found else 0

    def append_many(self, raws: list[bytes], folder: str = "INBOX", batch: int = 100) -> None:
        client = self.client(folder=None)
        try:
            for start in range(0, len(raws), batch):
                client.multiappend(folder, raws[start : start + batch])
        finally:
            client.logout()

    def restart(self) -> None:
        self.server.restart()


def _require_dovecot() -> None:
    problem = _dovecot_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"Dovecot is required in CI: {problem}")
        pytest.skip(f"skipping IMAP tests outside CI: {problem}")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One Dovecot for the whole session; outside CI a missing dovecot skips, in CI it fails."""
    _require_dovecot()
    server = DovecotServer()
    try:
        server.start()
    except Exception:
        server.cleanup()
        raise
    yield server
    server.cleanup()


@pytest.fixture
def imap_account(dovecot: DovecotServer) -> Iterator[ImapAccount]:
    """A new user name each test: the static passdb logs any name in and gives it an empty Maildir."""
    if dovecot.proc is None or dovecot.proc.poll() is not None:
        dovecot.start()  # a test that stopped the server must not break the next one
    yield ImapAccount(server=dovecot, user=f"u{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="session")
def introspection() -> Iterator[Introspection]:
    """The loopback token-introspection endpoint the OAuth Dovecot asks about every XOAUTH2 login."""
    endpoint = Introspection().start()
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="session")
def dovecot_oauth2(introspection: Introspection) -> Iterator[DovecotServer]:
    """A second Dovecot whose only passdb is oauth2 (XOAUTH2 and OAUTHBEARER) against `introspection`."""
    _require_dovecot()
    server = DovecotServer(introspection_url=introspection.url)
    try:
        server.start()
    except Exception:
        server.cleanup()
        raise
    yield server
    server.cleanup()


@dataclass
class OAuthImapAccount:
    """A fresh mailbox on the OAuth Dovecot; `grant` makes a token valid for it, `revoke` ends that."""

    server: DovecotServer
    introspection: Introspection
    user: str

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    def grant(self, token: str) -> None:
        self.introspection.grant(self.user, token)

    def revoke(self, token: str) -> None:
        self.introspection.revoke(token)

    def client(self, folder: str | None = "INBOX") -> IMAPClient:
        token = f"helper-{uuid.uuid4().hex}"
        self.grant(token)
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.oauth2_login(self.user, token)
        if folder:
            client.select_folder(folder)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        client = self.client(folder=None)
        try:
            client.append(folder, raw)
        finally:
            client.logout()


@pytest.fixture
def oauth_imap_account(dovecot_oauth2: DovecotServer, introspection: Introspection) -> OAuthImapAccount:
    if dovecot_oauth2.proc is None or dovecot_oauth2.proc.poll() is not None:
        dovecot_oauth2.start()
    return OAuthImapAccount(server=dovecot_oauth2, introspection=introspection, user=f"o{uuid.uuid4().hex[:10]}")
