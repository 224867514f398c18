"""The web page in a real browser: Debian's headless Chromium driven by selenium.

Open the page, pick a target, type a held-out demo sentence, and see the demo model's
exact translation; the test saves a screenshot in its tmp dir. The README's screenshot
is this test's: `DRAGOMAN_SCREENSHOT=docs/web-page.png pytest tests/server/http/test_browser.py`
copies it there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
)  # fmt: skip
WAIT_S = 60


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"{names[0]} is not installed (make system-deps installs Debian's)")


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium with a fresh profile, 1100x800."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium", "chromium-browser")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.add_argument("--window-size=1100,800")
    driver = webdriver.Chrome(options=options, service=Service(_binary("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()


def translate_on_page(driver: Any, base_url: str, target: str, text: str) -> str:
    """Opens the page, picks `target`, types `text`, and returns the translation shown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.get(f"{base_url}/")
    wait = WebDriverWait(driver, WAIT_S)
    option = (By.CSS_SELECTOR, f"#target option[value='{target}']")
    wait.until(ec.presence_of_element_located(option))
    Select(driver.find_element(By.ID, "target")).select_by_value(target)
    box = driver.find_element(By.ID, "source-text")
    box.send_keys(text)
    output = driver.find_element(By.ID, "target-text")
    wait.until(
        lambda _: (
            output.get_attribute("value")
            and "Translated by" in driver.find_element(By.ID, "status").text
        )
    )
    return str(output.get_attribute("value"))


def test_page_translates_a_held_out_sentence(
    browser: Any, base_url: str, held_out: list[dict[str, str]], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    row = held_out[0]
    shown = translate_on_page(browser, base_url, "qaa_Latn", row["eng_Latn"])
    assert shown == row["qaa_Latn"]
    status = browser.find_element(By.ID, "status").text
    assert "model demo" in status
    detected = browser.find_element(By.ID, "detected").text
    assert detected == "Detected: English"
    count = browser.find_element(By.ID, "char-count").text
    assert count.startswith(f"{len(row['eng_Latn'])} / ")
    shot = tmp_path / "page.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("DRAGOMAN_SCREENSHOT"):
        shutil.copy(shot, os.environ["DRAGOMAN_SCREENSHOT"])


def test_page_shows_errors_in_words(browser: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.get(f"{base_url}/")
    browser.execute_script(
        "const o = document.createElement('option'); o.value = 'xx_Fake'; o.textContent = 'Fake';"
        "document.getElementById('target').appendChild(o);"
    )
    WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#target option[value='qaa_Latn']")
    )
    Select(browser.find_element(By.ID, "target")).select_by_value("xx_Fake")
    browser.find_element(By.ID, "source-text").send_keys("Hello.")
    error = browser.find_element(By.ID, "error")
    WebDriverWait(browser, WAIT_S).until(lambda _: error.is_displayed())
    assert "unsupported target language 'xx_Fake'" in error.text


def test_page_stacks_its_panes_on_a_phone(browser: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By

    browser.set_window_size(390, 844)
    browser.get(f"{base_url}/")
    source = browser.find_element(By.ID, "source-text").rect
    target = browser.find_element(By.ID, "target-text").rect
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert target["y"] > source["y"] + source["height"], "the translation sits below the text"
    assert source["x"] + source["width"] <= width, "nothing wider than the screen"
