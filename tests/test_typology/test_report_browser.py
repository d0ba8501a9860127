"""The demo (what ``make demo`` runs) recovers the synthetic truth, and its report opens in
headless Chromium (Debian packages chromium and chromium-driver, installed by ``make test``)
without console errors, every figure decoding to a non-empty image."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest


@pytest.fixture(scope="module")
def demo_report(demo_run):
    return demo_run / "report.html"


def test_demo_recovers_the_true_types_and_coefficients(demo_report):
    import json

    m = json.loads((demo_report.parent / "manifest.json").read_text())
    truth = m["summary"]["truth"]
    assert truth["n_types_found"] == truth["n_true_types"] == 4
    assert truth["adjusted_rand"] >= 0.8
    terms = [v for model in truth["coefficients"].values() for v in model.values()]
    assert len(terms) == 9  # 3 wage, 2 investment and 4 stagnation-logit coefficients of truth.json
    for v in terms:
        assert v["ci_lower"] <= v["true"] <= v["ci_upper"], v


def test_embedded_figures_are_non_empty_images(demo_report):
    import matplotlib.image as mpimg

    html = demo_report.read_text(encoding="utf-8")
    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(uris) >= 6  # k selection, stability, profiles, map, transitions, coefficients
    for b64 in uris:
        img = mpimg.imread(io.BytesIO(base64.b64decode(b64)), format="png")
        assert img.shape[0] > 100 and img.shape[1] > 100
        rgb = img[..., :3]
        # not a blank canvas: a real share of the pixels is not background white
        assert (rgb.min(axis=2) < 0.9).mean() > 0.01
        assert float(np.std(rgb)) > 0.05
    assert "<script" not in html and "http://" not in html and "https://" not in html


def test_report_renders_in_headless_chromium_without_console_errors(demo_report, headless_chrome):
    driver = headless_chrome
    driver.get(demo_report.as_uri())
    assert driver.title == "Town typology report"
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])")
    assert len(images) >= 6
    for complete, w, h, alt in images:
        assert complete and w > 100 and h > 100, alt
    headings = driver.execute_script("return Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
    for section in ("Data", "Number of types", "Stability of the types", "Type profiles", "Map",
                    "The typology as threshold rules", "Transitions between types over time", "Panel models"):
        assert section in headings
    logs = driver.get_log("browser")
    assert logs == [], logs
