"""Settings come from the environment, with secure defaults when debug is off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "debug": settings.DEBUG,
    "secret": settings.SECRET_KEY,
    "hosts": settings.ALLOWED_HOSTS,
    "session_secure": getattr(settings, "SESSION_COOKIE_SECURE", False),
    "csrf_secure": getattr(settings, "CSRF_COOKIE_SECURE", False),
    "hsts": getattr(settings, "SECURE_HSTS_SECONDS", 0),
    "frame": settings.X_FRAME_OPTIONS,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "options": settings.DATABASES["default"].get("OPTIONS", {}),
}))
"""


def probe(tmp_path: Path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    clean.update({"ACCORD_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "accord.settings"})
    clean.update(env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=clean,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_secure_defaults_and_persisted_secret(tmp_path):
    first = probe(tmp_path)
    assert first["debug"] is False
    assert first["session_secure"] and first["csrf_secure"]
    assert first["hsts"] >= 31536000
    assert first["frame"] == "DENY"
    assert len(first["secret"]) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert probe(tmp_path)["secret"] == first["secret"]


def test_default_database_is_sqlite_under_var_with_wal_and_immediate(tmp_path):
    values = probe(tmp_path)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(tmp_path / "accord.sqlite3")
    assert values["options"]["transaction_mode"] == "IMMEDIATE"
    assert values["options"]["timeout"] >= 5
    assert "journal_mode=WAL" in values["options"]["init_command"]


def test_environment_overrides(tmp_path):
    values = probe(
        tmp_path,
        ACCORD_SECRET_KEY="k" * 60,
        ACCORD_ALLOWED_HOSTS="accord.example.com, partners.example.com",
        ACCORD_DATABASE_URL="postgres://u:p@db.internal:5432/accord",
        ACCORD_DEBUG="true",
    )
    assert values["secret"] == "k" * 60
    assert values["hosts"] == ["accord.example.com", "partners.example.com"]
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["debug"] is True
    assert not values["session_secure"]


@pytest.mark.django_db
def test_pages_send_security_headers(client):
    response = client.get("/accounts/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_sqlite_file_database_runs_in_wal_mode_with_immediate_transactions(
    tmp_path, django_db_blocker
):
    from django.conf import settings
    from django.db.backends.sqlite3.base import DatabaseWrapper

    options = probe(tmp_path)["options"]
    config = {
        **settings.DATABASES["default"],
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(tmp_path / "probe.sqlite3"),
        "OPTIONS": options,
    }
    wrapper = DatabaseWrapper(config, alias="probe")
    with django_db_blocker.unblock():
        with wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] >= 5000
        assert wrapper.transaction_mode == "IMMEDIATE"
        wrapper.close()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cookie", ['sessionid="abcdefgh\\000ijklmnop"', "sessionid=" + "x" * 5000, "sessionid=ABC"]
)
def test_malformed_session_cookies_are_no_session(client, cookie):
    # The raw header: Django unescapes \000 inside a quoted cookie value into a NUL.
    response = client.get("/organisations/", HTTP_COOKIE=cookie)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    api = client.get("/api/v1/me", HTTP_COOKIE=cookie)
    assert api.status_code == 401
