"""The ``accord`` commands: demo, token, createsuperuser, and serve/errors as real processes."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accord.accounts.models import ApiToken, User
from accord.accounts.services import authenticate_token
from accord.demo.network import DEMO_PASSWORD, DEMO_USERS
from accord.partners.models import Organisation

ACCORD = [sys.executable, "-m", "accord.cli"]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- accord demo -------------------------------------------------------------------
def test_demo_loads_prints_logins_and_is_idempotent(db: None) -> None:
    out, _ = run("demo", "--organisations", "20", "--no-serve", "--method", "bulk")

    assert "Demo network loaded" in out
    assert DEMO_PASSWORD in out
    for user in DEMO_USERS:
        assert user.email in out
    assert "华南电子分销有限公司" in out
    assert Organisation.objects.partners().count() == 20

    out, _ = run("demo", "--organisations", "20", "--no-serve")
    assert "nothing changed" in out
    assert Organisation.objects.partners().count() == 20


def test_demo_refuses_a_network_too_small_for_its_logins(db: None) -> None:
    with pytest.raises(CommandError, match="at least"):
        run("demo", "--organisations", "3", "--no-serve")


# --- accord token -------------------------------------------------------------------
def test_token_round_trip(db: None, channel_manager: User) -> None:
    out, err = run("token", "create", "--user", "CHANNEL@vendor.test", "--name", "ERP sync")
    raw = out.strip()
    assert raw.startswith("acc_") and "\n" not in raw
    assert "not shown again" in err
    assert authenticate_token(raw) == channel_manager
    token = ApiToken.objects.get(user=channel_manager)
    assert token.name == "ERP sync"
    assert token.key_hash != raw and raw not in token.key_hash  # only the hash is stored

    listing, _ = run("token", "list", "--user", channel_manager.email)
    assert token.prefix in listing and "ERP sync" in listing and "active" in listing
    assert raw not in listing

    out, _ = run("token", "revoke", token.prefix)
    assert "Revoked" in out
    assert authenticate_token(raw) is None
    listing, _ = run("token", "list")
    assert "revoked" in listing
    out, _ = run("token", "revoke", token.prefix)
    assert "already revoked" in out


def test_token_errors_are_clear(db: None, channel_manager: User) -> None:
    with pytest.raises(CommandError, match="No user with the e-mail address"):
        run("token", "create", "--user", "nobody@example.com")
    with pytest.raises(CommandError, match="No token with the prefix"):
        run("token", "revoke", "deadbeef")
    with pytest.raises(CommandError, match="name"):
        run("token", "create", "--user", channel_manager.email, "--name", "  ")
    assert not ApiToken.objects.exists()


# --- accord createsuperuser -----------------------------------------------------------
def test_createsuperuser_belongs_to_the_vendor(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-enough-secret-7")
    call_command(
        "createsuperuser",
        interactive=False,
        email="Root@Example.com",
        full_name="Root User",
        stdout=io.StringIO(),
    )
    user = User.objects.get(email="root@example.com")
    assert user.is_superuser and user.full_name == "Root User"
    assert user.organisation == Organisation.objects.vendor()
    assert user.check_password("a-long-enough-secret-7")
    assert Organisation.objects.restrict(user).count() == Organisation.objects.count()


# --- real processes -------------------------------------------------------------------
@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A migrated embedded database of its own, outside the test database."""
    path = tmp_path_factory.mktemp("var")
    env = process_env(path)
    subprocess.run([*ACCORD, "migrate", "-v0"], env=env, check=True, timeout=180)
    yield path


def process_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ACCORD_DATABASE_URL"}
    env.update(ACCORD_VAR_DIR=str(var), ACCORD_DEBUG="0", PYTHONUNBUFFERED="1")
    return env


def test_command_errors_exit_non_zero_without_a_traceback(var_dir: Path) -> None:
    result = subprocess.run(
        [*ACCORD, "token", "create", "--user", "nobody@example.com"],
        env=process_env(var_dir),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode != 0
    assert "No user with the e-mail address" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read(), dict(response.headers)


def wait_for(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def test_serve_runs_gunicorn_with_static_files(var_dir: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*ACCORD, "serve", "--port", str(port), "--workers", "1", "--no-migrate"],
        env=process_env(var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/api/openapi.json", process)
        status, body, headers = get(f"{base}/accounts/login/")
        assert status == 200 and b"password" in body.lower()
        assert "Content-Security-Policy" in headers
        status, body, _ = get(f"{base}/static/admin/css/base.css")
        assert status == 200 and body
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert "gunicorn" in output.lower()


def test_demo_serves_the_app_and_its_static_files(var_dir: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*ACCORD, "demo", "--organisations", "14", "--port", str(port)],
        env=process_env(var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/accounts/login/", process, seconds=120)
        status, body, headers = get(f"{base}/accounts/login/")
        assert status == 200 and "Content-Security-Policy" in headers
        status, body, _ = get(f"{base}/static/accord/accord.css")
        assert status == 200 and body
        # DEBUG stays off: an unknown page is the app's own 404, not Django's debug page.
        try:
            get(f"{base}/no-such-page/")
        except urllib.error.HTTPError as error:
            assert error.code == 404
            assert b"URLconf" not in error.read()
        else:
            raise AssertionError("an unknown page answered 200")
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert "admin@accord.demo" in output and DEMO_PASSWORD in output
