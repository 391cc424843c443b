"""The HTML report as a reader sees it: rendered by headless Chromium, every figure shown, tables too."""

import io

import numpy as np
import pytest
from debian import CHROMIUM, require
from helpers import snakemake
from matplotlib import image

from robustlaw.catalogue import FIGURES

FIGURES = [f"{name}.png" for name in FIGURES]
TABLES = {"law_fit.html": "Fitted law", "config.html": "Resolved configuration"}


@pytest.fixture(scope="module")
def browser():
    require(CHROMIUM)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    chromium, chromedriver = CHROMIUM.programs
    options.binary_location = chromium
    # No network here: without these flags Chromium keeps trying to reach Google's services.
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)  # fmt: skip
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    # Only a limit for a page that never renders: a busy machine may take many seconds to lay one out.
    driver.implicitly_wait(120)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def report(workflow, finished_run):
    snakemake(workflow, finished_run, "--report", "results/report.html")
    return (finished_run / "results" / "report.html").as_uri()


def open_result(browser, report: str, category: str, path: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(report)
    browser.find_element(By.XPATH, f"//span[text()='{category}']").click()
    row = browser.find_element(By.XPATH, f"//tr[td[text()='{path}']]")
    row.find_element(By.CSS_SELECTOR, "a[iconname='eye']").click()


@pytest.mark.parametrize("figure", FIGURES)
def test_each_figure_is_displayed_and_not_blank(browser, report, figure):
    from selenium.webdriver.common.by import By

    open_result(browser, report, "Figures", f"results/figures/{figure}")
    shown = browser.find_element(By.XPATH, f"//img[contains(@src, 'filename={figure}')]")
    loaded, natural_width, width, height = browser.execute_script(
        "const box = arguments[0].getBoundingClientRect();"
        "return [arguments[0].complete, arguments[0].naturalWidth, box.width, box.height];",
        shown,
    )
    assert loaded and natural_width >= 1000 and width > 400 and height > 200
    pixels = image.imread(io.BytesIO(shown.screenshot_as_png))
    colours = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)
    assert len(colours) > 50  # axes, curves and text, not an empty box


@pytest.mark.parametrize(("page", "heading"), TABLES.items())
def test_tables_are_displayed(browser, report, page, heading):
    from selenium.webdriver.common.by import By

    open_result(browser, report, "Tables", f"results/report/{page}")
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    try:
        assert heading in browser.find_element(By.TAG_NAME, "body").text
    finally:
        browser.switch_to.default_content()
