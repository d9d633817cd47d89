"""Charts on the docs pages, drawn with matplotlib from what a lab printed.

A lab folder may hold a chart.py with `chart(text)`, text being what `make lab-N` printed
(as recorded in docs/outputs/), returning a matplotlib Figure. The SVG beside the
recording (docs/outputs/15-under-load.svg) is drawn from that very text, by the same
command that records it, so the chart is exactly as fresh as the text; the recording's
check draws it again and compares.
"""

import io

from . import recording


def svg(lab, text: str) -> str | None:
    """The lab's chart of `text` as SVG, the same bytes every time; None for a lab without one."""
    if not (lab.path / "chart.py").exists():
        return None
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    # Fixed ids and no date in the file: the same text draws the same SVG.
    with matplotlib.rc_context({"svg.hashsalt": "labkit", "svg.fonttype": "path"}):
        figure = lab.load("chart").chart(text)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None}, bbox_inches="tight")
        plt.close(figure)
    return out.getvalue()


def check(lab, runtime: str, update: bool) -> None:
    """Draw (update=True) or check docs/outputs/<name>.svg against the recorded text."""
    name = recording.lab_output(lab, runtime)
    drawn = svg(lab, (recording.OUTPUTS / f"{name}.txt").read_text())
    if drawn is None:
        return
    path = recording.OUTPUTS / f"{name}.svg"
    if update:
        path.write_text(drawn)
    assert path.exists() and path.read_text() == drawn, (
        f"docs/outputs/{name}.svg is not drawn from docs/outputs/{name}.txt as it is now: make docs-outputs")
