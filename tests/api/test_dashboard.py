"""The dashboard in a real headless browser (Debian's chromium and chromedriver, driven by
Selenium): served by a real uvicorn over the index the app builds from a real devnet history,
it shows that history, and a task created on the devnet by a signed transaction appears in the
tasks table without the page being reloaded (the event stream drives the update).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.app import create_app
from api.settings import ApiSettings
from tests.api.conftest import target
from tests.indexer.market import ONE, Market, call, create_task, u256

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = Path("/tmp/dashboard.png")
WAIT = 30.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="the browser test needs Debian's chromium and chromedriver "
        "(/usr/bin/chromium, /usr/bin/chromedriver; apt-get install chromium chromium-driver)",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(market: Market, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app under a real uvicorn in a thread, indexing the devnet; yields its base URL once
    ``/health`` says the index reached the head."""
    import urllib.request

    db = tmp_path_factory.mktemp("dashboard") / "index.duckdb"
    settings = ApiSettings(db=db, target=target(market), rate_limit=0, stream_poll=0.1)
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    head = asyncio.run(market.head())
    deadline = time.monotonic() + 60
    synced = False
    while time.monotonic() < deadline and not synced:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health") as answer:
                import json

                synced = (json.loads(answer.read())["indexed_block"] or 0) >= head
        except OSError:
            pass
        time.sleep(0.2)
    assert synced, "the API did not sync"
    yield base
    uv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--disable-gpu", "--window-size=1400,1300"):
        options.add_argument(flag)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    profile = tempfile.mkdtemp(prefix="smainer-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def task_ids(browser: Any) -> list[int]:
    """Read in one script call: the page re-renders the table on every event."""
    ids: list[int] = browser.execute_script(
        "return [...document.querySelectorAll('#tasks tbody tr[data-task]')]"
        ".map((r) => Number(r.dataset.task));"
    )
    return ids


def task_cells(browser: Any, task_id: int) -> list[str]:
    cells: list[str] = browser.execute_script(
        "const row = document.querySelector(`#tasks tr[data-task='${arguments[0]}']`);"
        "return row ? [...row.cells].map((c) => c.innerText.trim()) : [];",
        task_id,
    )
    return cells


def text_of(browser: Any, selector: str) -> str:
    """An element's text, read in one script call (no stale handle across a re-render)."""
    text: str = browser.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", selector
    )
    return text


def click_task(browser: Any, task_id: int) -> None:
    """Click the row as a person would, again if a re-render replaced it under the click."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for _ in range(10):
        try:
            browser.find_element(By.CSS_SELECTOR, f'#tasks tr[data-task="{task_id}"]').click()
            return
        except StaleElementReferenceException:
            time.sleep(0.1)
    raise AssertionError(f"could not click task {task_id}")


def wait_for(condition: Any, what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_dashboard_shows_the_index_and_a_new_task_live(server, browser, market: Market, tmp_path):
    from selenium.webdriver.common.by import By

    (count,) = asyncio.run(market.view("get_task_count"))
    browser.get(server + "/")
    assert "Smainer" in browser.title
    # Server-rendered: every task of the history, newest first, before any script ran.
    assert task_ids(browser) == list(range(count, 0, -1))
    assert browser.find_element(By.ID, "stat-total").text == str(count)
    # The script connects to the event stream and draws the 24-hour chart.
    wait_for(lambda: browser.find_element(By.ID, "live").text == "live", "the event stream")
    # The chart comes from the first stats fetch, which may finish after the stream opens.
    bars = wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#chart rect.bar"), "the 24-hour chart"
    )
    assert len(bars) == 24
    nodes = browser.find_elements(By.CSS_SELECTOR, "#nodes tbody tr")
    assert len(nodes) == len(market.nodes)

    # Mark this page load: a reload would drop the marker.
    browser.execute_script("window.__smainerMark = 'same page';")
    customer_address, _ = market.accounts[1]
    escrow, token = market.escrow, market.token
    amount = 3 * ONE
    asyncio.run(
        market.send(1, call(token, "approve", escrow, *u256(amount)), create_task(escrow, amount))
    )
    new_id = count + 1
    wait_for(lambda: new_id in task_ids(browser), f"task {new_id} in the table")
    assert browser.execute_script("return window.__smainerMark") == "same page"
    cells = task_cells(browser, new_id)
    assert cells[1] == "open"
    assert cells[2] == "matmul"
    assert cells[3] == "3"
    wait_for(lambda: text_of(browser, "#stat-total") == str(new_id), "the stats update")
    assert f"TaskCreated task {new_id}" in text_of(browser, "#events")

    # The detail view: payload, and the timeline with the creating transaction's hash.
    click_task(browser, new_id)
    wait_for(lambda: browser.find_element(By.ID, "detail").is_displayed(), "the task view")
    wait_for(lambda: "TaskCreated" in text_of(browser, "#timeline"), "the timeline")
    assert f"#{new_id}" in text_of(browser, "#detail-id")
    assert "matrix_multiplication" in text_of(browser, "#detail")
    assert customer_address == int(text_of(browser, "#detail dl dd:nth-of-type(4)"), 16)
    assert browser.execute_script("return window.__smainerMark") == "same page"
    shot = tmp_path / "dashboard.png"
    assert browser.save_screenshot(str(shot))
    shutil.copyfile(shot, SCREENSHOT)
