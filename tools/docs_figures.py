"""Render committed study figures to PNG for the docs (docs/img/figures/<page>.png): each
feature page opens with one (issue 22). The figures are the plotly JSON the studies commit
under experiments/results/; each is drawn offline by plotly.js (inlined, no CDN) in Debian's
headless Chromium through Playwright (never a downloaded browser, no kaleido), and the plot
element is shot at a fixed viewport and device scale, so a rerun draws the same picture (the
PNG bytes may still differ between machines: fonts, Chromium versions).

    .venv/bin/python -m tools.docs_figures                     # every figure of FIGURES
    .venv/bin/python -m tools.docs_figures --only steering     # some (page names)
    .venv/bin/python -m tools.docs_figures --markdown          # the lines a page carries

An entry whose source is missing (a study still running) is skipped with a message; it is
drawn on a later run. Entries with `pending=True` are not on their page yet: render them,
paste the lines `--markdown` prints after the page's first paragraph, then drop `pending`
(tests/test_docs_figures.py checks every other entry's page and PNG).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from tools.browser import CHROMIUM, wait_until

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
OUT = DOCS / "img" / "figures"
RESULTS = "experiments/results"
SMOL = "smollm2-135m-instruct"


@dataclass(frozen=True)
class DocFigure:
    """One page's figure: `source` (relative to the repository) is a plotly figure JSON, or a
    dict of them (`key` is the path to one); `width`/`height` replace the layout's size (CSS
    pixels) and `scale` is the device scale, so the PNG is width*scale pixels wide."""

    page: str  # docs/<page>.md; the PNG is docs/img/figures/<page>.png
    source: str
    alt: str  # the image's alt text
    caption: str  # what it shows, one line (the command is appended)
    command: str  # the command that made the numbers
    key: tuple[str, ...] = ()
    width: int = 1100
    height: int = 520
    scale: float = 1.0
    layout: dict = field(default_factory=dict)  # more layout changes (merged into it)
    transpose: bool = False  # swap x and y (a tall heatmap made wide; see `transposed`)
    pending: bool = False  # not on its page yet (see the module's docstring)

    @property
    def png(self) -> Path:
        return OUT / f"{self.page}.png"

    @property
    def markdown(self) -> str:
        """The lines the page carries right after its first paragraph."""
        command = self.command.replace(" ", "\x00")  # the command stays on one line
        caption = textwrap.fill(f"*{self.caption} Numbers: `{command}`.*", 100,
                                break_long_words=False, break_on_hyphens=False)
        caption = caption.replace("\x00", " ")
        return f"![{self.alt}](img/figures/{self.page}.png)\n\n{caption}\n"


FIGURES: tuple[DocFigure, ...] = (
    DocFigure(
        page="concept-depth",
        source=f"{RESULTS}/concept_depth_real/{SMOL}.figure.json",
        alt="Concept depth in SmolLM2-135M-Instruct: linear-probe accuracy by layer",
        caption="SmolLM2-135M-Instruct: linear-probe accuracy by layer for each bundled "
                "dataset, with the controls and the jumping and converging points.",
        command=".venv/bin/python experiments/concept_depth_real.py",
        width=1100, height=1300),
    DocFigure(
        page="neurons-smollm2",
        source=f"{RESULTS}/neuron_summary/{SMOL}.figure.json",
        alt="Top-1 probability of SmolLM2's decoded neurons by layer, up, gate and down",
        caption="SmolLM2-135M-Instruct: the distribution of the top-1 probability of every "
                "decoded neuron, per layer and side (up, gate, down).",
        command=".venv/bin/python experiments/neuron_summary.py",
        width=1100, height=520),
    DocFigure(
        page="decode-neurons",
        source=f"{RESULTS}/token_bias/{SMOL}.figure.json",
        alt="Token bias of SmolLM2's decoded neurons under the paper's, cosine and clean "
            "decoding",
        caption="SmolLM2-135M-Instruct, up neurons decoded three ways (the paper's raw logits, "
                "cosine, cosine without flagged tokens): the share whose top-1 token is a "
                "large-norm token, and the layers where concept words appear.",
        command=".venv/bin/python experiments/token_bias.py",
        width=1100, height=800),
    DocFigure(
        page="steering",
        source=f"{RESULTS}/dose_response/interp-tiny.figure.json",
        alt="Dose-response of concept neurons against random control neurons on interp-tiny",
        caption="interp-tiny: P(concept) as each concept's neuron is clamped to multiples of "
                "its max activation, against 10 random control neurons of its layer (grey).",
        command=".venv/bin/python experiments/dose_response.py",
        width=1400, height=480, scale=0.85),
    DocFigure(
        page="sae-circuits",
        source=f"{RESULTS}/circuits_real/{SMOL}.figures.json", key=("ioi-dev", "roc"),
        alt="ROC curves of the SAE method and attribution patching against activation "
            "patching, IOI on SmolLM2",
        caption="IOI on SmolLM2-135M-Instruct: ROC of the SAE method's head scores (three "
                "seeds, and from edges with seed 0) and of attribution patching against the "
                "heads that activation patching finds.",
        command=".venv/bin/python experiments/circuits_real.py",
        width=660, height=480, scale=1.6),
    DocFigure(
        page="circuits-smollm2",
        source=f"{RESULTS}/circuits_real/{SMOL}.figures.json", key=("ioi-dev", "patching"),
        alt="Activation patching of every head of SmolLM2 on IOI, diverging scale centred on "
            "zero",
        caption="IOI on SmolLM2-135M-Instruct: the fraction of the clean - corrupted gap that "
                "patching each head removes, layers left to right (diverging scale centred on "
                "zero; squares: the ground-truth circuit, |score| >= 0.05).",
        command=".venv/bin/python experiments/circuits_real.py",
        width=1100, height=440, transpose=True),
    DocFigure(
        page="codebook",
        source=f"{RESULTS}/codebooks_real/{SMOL}.figures.json", key=("steering",),
        alt="Share of continuations naming the concept, unsteered, with control codes and "
            "with the target code, SmolLM2",
        caption="SmolLM2-135M-Instruct with codebooks at layer 15 (MLP output, attention "
                "heads): the share of continuations naming each concept, unsteered, with "
                "control codes and with the concept's code activated.",
        command=".venv/bin/python experiments/codebooks_real.py",
        width=1100, height=420),
    DocFigure(
        page="ast-probe",
        source=f"{RESULTS}/ast_probe_real/{SMOL}.figure.json",
        alt="AST-probe F1 per residual row of SmolLM2 beside its controls",
        caption="SmolLM2-135M-Instruct: the AST probe's constituent F1 per residual row, "
                "beside the random-init copy, the embedding row and the lookup table.",
        command=".venv/bin/python experiments/ast_probe_real.py",
        width=1100, height=480),
)


def load_figure(entry: DocFigure) -> dict | None:
    """The entry's plotly figure as a dict, sized for the picture; None if its source is
    missing."""
    path = ROOT / entry.source
    if not path.exists():
        return None
    fig = json.loads(path.read_text())
    for key in entry.key:
        fig = fig[key]
    if entry.transpose:
        fig = transposed(fig)
    layout = merged(fig.get("layout", {}), {"width": entry.width, "height": entry.height})
    return {"data": fig["data"], "layout": merged(layout, entry.layout)}


def merged(base: dict, more: dict) -> dict:
    """`base` with `more` merged in, nested dicts key by key (neither is changed)."""
    out = dict(base)
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            value = merged(out[key], value)
        out[key] = value
    return out


def _swap_xy(match: re.Match) -> str:
    return "%{y}" if match[1] == "x" else "%{x}"


def transposed(fig: dict) -> dict:
    """A one-axis-pair figure of heatmaps and scatters with x and y swapped (z transposed,
    the axes' settings swapped): a tall heatmap of layers x heads drawn wide. A reversed axis
    stays reversed where its values go (layers read left to right; head 0 at the top); both
    axes are clipped to the heatmap's cells (markers would pad them past its edges)."""
    data = []
    for trace in fig["data"]:
        trace = dict(trace, x=trace.get("y"), y=trace.get("x"))
        if trace.get("type") == "heatmap":
            trace["z"] = [list(row) for row in zip(*trace["z"])]
            template = trace.get("hovertemplate")
            if template:
                trace["hovertemplate"] = re.sub(r"%\{([xy])\}", _swap_xy, template)
        data.append(trace)
    layout = dict(fig.get("layout", {}))
    xaxis, yaxis = dict(layout.get("yaxis", {})), dict(layout.get("xaxis", {}))
    xaxis.pop("autorange", None)
    yaxis["autorange"] = "reversed"
    cells = next((t for t in data if t.get("type") == "heatmap"), None)
    if cells is not None:
        xaxis["range"] = [min(cells["x"]) - 0.5, max(cells["x"]) + 0.5]
        yaxis["range"] = [max(cells["y"]) + 0.5, min(cells["y"]) - 0.5]
        yaxis["autorange"] = False
    layout.update(xaxis=xaxis, yaxis=yaxis)
    return {"data": data, "layout": layout}


def page_html(fig: dict) -> str:
    """A page with plotly.js inline (offline) and the figure, no mode bar."""
    import plotly.graph_objects as go

    from interp.viz.html import figure_html

    html = figure_html(go.Figure(fig), full_html=True, include_plotlyjs=True, key="docs")
    style = ("<style>body{margin:0;background:white}"
             ".modebar-container{display:none!important}</style>")
    return html.replace("<head>", "<head>" + style, 1)


def render(entries: list[DocFigure]) -> list[Path]:
    """Draw each entry whose source exists to its PNG; returns the PNGs written."""
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="interp-docs-figures-") as tmp, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        for entry in entries:
            fig = load_figure(entry)
            if fig is None:
                print(f"skip {entry.page}: {entry.source} is missing (a study still running?)",
                      file=sys.stderr)
                continue
            html = Path(tmp) / f"{entry.page}.html"
            html.write_text(page_html(fig))
            page = browser.new_page(viewport={"width": entry.width + 40,
                                              "height": entry.height + 40},
                                    device_scale_factor=entry.scale)
            page.goto(html.as_uri())
            wait_until(page, "() => { const g = document.querySelector('.js-plotly-plot');"
                             " return !!(g && g._fullLayout && g.querySelector('.main-svg'))"
                             " && document.fonts.status === 'loaded'; }")
            page.evaluate("() => new Promise(r => requestAnimationFrame(() =>"
                          " requestAnimationFrame(r)))")
            page.locator(".js-plotly-plot").screenshot(path=str(entry.png),
                                                       animations="disabled")
            page.close()
            written.append(entry.png)
            print(f"wrote {entry.png.relative_to(ROOT)} ({entry.png.stat().st_size // 1024} KB)",
                  file=sys.stderr)
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.docs_figures",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="the pages to draw (default: all); names: "
                        + " ".join(e.page for e in FIGURES))
    parser.add_argument("--markdown", action="store_true",
                        help="print the lines each page carries instead of drawing")
    args = parser.parse_args(argv)
    entries = list(FIGURES)
    if args.only:
        unknown = sorted(set(args.only) - {e.page for e in FIGURES})
        if unknown:
            parser.error(f"unknown figure(s): {' '.join(unknown)}")
        entries = [e for e in FIGURES if e.page in args.only]
    if args.markdown:
        for entry in entries:
            print(f"docs/{entry.page}.md:\n\n{entry.markdown}")
        return 0
    if not Path(CHROMIUM).exists():
        print(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
              file=sys.stderr)
        return 1
    render(entries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
