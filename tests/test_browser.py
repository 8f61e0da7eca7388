"""End to end in a real headless Chromium against `streamlit run` on 127.0.0.1.

Ask, see the rule banner and a citation, follow the citation link, see the source section
highlighted, leave feedback, see it on the trainer page; a screenshot of each step is saved under test-output/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT, Settings
from assistant.database import open_database
from assistant.feedback import FeedbackStore
from tests.servers import free_port, wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.browser]
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
OUT = PROJECT_ROOT / "test-output" / "browser"
WAIT = 120



@pytest.fixture
def server(real_index: Settings) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(real_index.data_dir), "ASSISTANT_UI_BASE_URL": base}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "ui" / "app.py"), "--server.address",
         "127.0.0.1", "--server.port", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # reads .streamlit/
    wait_for_port(port, proc, WAIT)
    yield base
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture
def browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Debian chromium + chromium-driver not installed (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_ask_follow_citation_see_highlight_feedback_reaches_trainer(server: str, browser, real_index: Settings) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    OUT.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(browser, WAIT)
    browser.get(server)
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']")))
    box.send_keys("Can I give a West Virginia client a $20 credit?", Keys.ENTER)
    link = wait.until(ec.element_to_be_clickable((By.PARTIAL_LINK_TEXT, "Open the source section")))
    banner = browser.find_element(By.CSS_SELECTOR, "[data-testid='stAlertContentError']")
    assert "wv-no-credit" in banner.text and "West Virginia" in banner.text
    assert "We cannot provide any courtesy credits for West Virginia" in browser.page_source
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid='stAppDeployButton']")  # .streamlit/config.toml
    browser.save_screenshot(str(OUT / "1-answer.png"))

    thumbs = browser.find_elements(By.CSS_SELECTOR, "[data-testid='stFeedback'] button")
    thumbs[0].click()  # thumbs up
    wait.until(lambda d: FeedbackStore(open_database(real_index)).rows(text="West Virginia client a $20"))

    href = link.get_attribute("href")
    assert href.startswith(server + "/page_viewer?page=") and "hl=" in href
    browser.get(href)
    mark = wait.until(ec.presence_of_element_located((By.TAG_NAME, "mark")))
    assert "We cannot provide any courtesy credits for West Virginia" in mark.text
    time.sleep(1)  # let the scroll-to-section script run before the picture
    browser.save_screenshot(str(OUT / "2-source-highlighted.png"))

    # The trainer page lists the feedback just left (the table itself is a canvas: check its count).
    browser.get(server + "/trainer")
    tab = wait.until(ec.element_to_be_clickable((By.XPATH, "//*[@role='tab'][contains(., 'Feedback')]")))
    tab.click()
    search = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stTextInput'] input")))
    search.send_keys("West Virginia client a $20", Keys.ENTER)
    wait.until(lambda d: "1 feedback entries" in d.page_source)
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid='stDataFrame']")))
    time.sleep(1)  # the grid paints its canvas after the element appears
    browser.save_screenshot(str(OUT / "3-trainer-feedback.png"))
    print(f"screenshots: {OUT}")




def test_overdue_badge_and_knowledge_health_page(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    """A citation from the overdue page carries the badge, and the Knowledge health page shows the collections
    e-mail conflict. Screenshots go to test-output/ (a run never rewrites the committed ones in docs/screenshots/,
    which were taken by this test).
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    OUT.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(browser, WAIT)
    browser.get(server)
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']")))
    box.send_keys("Who do I email when a client in collections schedules service?", Keys.ENTER)
    badge = wait.until(ec.visibility_of_element_located((By.XPATH, "//*[contains(text(), 'Review overdue')]")))
    assert "Delinquent" in browser.page_source
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", badge)
    time.sleep(1)
    browser.save_screenshot(str(OUT / "overdue-badge.png"))

    browser.get(server + "/health")
    wait.until(lambda d: "collection@scramsystems.com" in d.page_source)
    assert "collection@lmgholdings.com" in browser.page_source
    time.sleep(1)
    browser.save_screenshot(str(OUT / "knowledge-health.png"))
