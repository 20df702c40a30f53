"""The stylesheet's dark scheme: it follows prefers-color-scheme and keeps text readable."""

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parent.parent / "static" / "css" / "registry.css").read_text()


def variables(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", block))


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def dark_block() -> str:
    start = CSS.index("@media screen and (prefers-color-scheme: dark)")
    return CSS[start : CSS.index("@media print", start)]


def test_dark_scheme_follows_the_preference_and_changes_the_palette():
    assert "color-scheme: light dark" in CSS  # form controls and scrollbars follow too
    light, dark = variables(CSS[: CSS.index("}")]), variables(dark_block())
    assert {"ink", "ink-muted", "paper", "canvas", "accent", "bad", "good", "warn"} <= set(dark)
    assert luminance(dark["paper"]) < luminance(dark["ink"])  # light ink on dark paper
    assert dark["paper"] != light["paper"]


@pytest.mark.parametrize(
    "ink", ["ink", "ink-muted", "accent", "accent-dark", "good", "warn", "bad"]
)
@pytest.mark.parametrize("paper", ["paper", "canvas"])
def test_dark_scheme_text_meets_wcag_aa(ink, paper):
    dark = variables(dark_block())
    assert contrast(dark[ink], dark[paper]) >= 4.5, (ink, paper)


@pytest.mark.parametrize(
    ("selector", "ink"),
    [
        (r"\.status-in_force, \.cls-unclassified \{", "good"),
        (r"\.status-suspended, \.kind-notice_deadline \{", "warn"),
        (r"\.kind-expiry \{", "bad"),
    ],
)
def test_dark_badges_keep_their_ink_readable(selector, ink):
    block = dark_block()
    background = re.search(selector + r"\s*background: (#\w{6})", block).group(1)
    assert contrast(variables(block)[ink], background) >= 4.5
