"""Real-browser fixtures: Playwright driving Debian's Chromium against the live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM (used by the live
# server and by the fixtures) refuses to run beside one unless told it is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
DEMO_ORGANISATIONS = 40


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium the browser tests are skipped locally, but fail in CI."""
    if CHROMIUM.exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: run `make test` to install it")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class Session:
    """A fresh browser context and page, with what the console reported."""

    page: Any
    base_url: str
    console: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def csp_violations(self) -> list[str]:
        return [
            line
            for line in self.console
            if "Content Security Policy" in line or "Content-Security-Policy" in line
        ]

    def log_in(self, email: str, password: str) -> None:
        self.goto("/accounts/login/")
        self.page.fill("input[name=username]", email)
        self.page.fill("input[name=password]", password)
        with self.page.expect_navigation():
            self.page.click("form[action$='/accounts/login/'] button[type=submit]")
        assert "/accounts/login/" not in self.page.url, "login failed"


@pytest.fixture
def session(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Session]:
    context = browser.new_context(
        locale="en-GB", viewport={"width": 1280, "height": 860}, device_scale_factor=1
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    current = Session(page=page, base_url=live_server.url)
    page.on("console", lambda message: current.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: current.console.append(f"pageerror: {error}"))
    yield current
    context.close()


@pytest.fixture
def network(transactional_db: None) -> Any:
    """A small demo network in the live server's database (logins share DEMO_PASSWORD)."""
    from accord.demo.network import load_demo_network

    return load_demo_network(DEMO_ORGANISATIONS, method="bulk")


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    path = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
