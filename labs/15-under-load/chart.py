"""Lab 15's chart: p50, p95 and p99 per algorithm, from the table `make lab-15` prints."""

import re

from matplotlib.figure import Figure

COLUMNS = ["p50", "p95", "p99"]


def rows(text: str) -> dict[str, list[int]]:
    """{algorithm: [p50, p95, p99] in ms} from the printed table."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"(\w+)\s+\d+\s+\d+\s+(\d+) ms\s+(\d+) ms\s+(\d+) ms", line)
        if match:
            found[match[1]] = [int(match[k]) for k in (2, 3, 4)]
    return found


def chart(text: str) -> Figure:
    times = rows(text)
    figure = Figure(figsize=(7, 3.2))
    axes = figure.subplots()
    width = 0.26
    for k, (column, colour) in enumerate(zip(COLUMNS, ["#9ecae1", "#3182bd", "#08519c"])):
        positions = [i + (k - 1) * width for i in range(len(times))]
        values = [max(t[k], 1) for t in times.values()]  # a log scale has no 0
        bars = axes.bar(positions, values, width, label=column, color=colour)
        axes.bar_label(bars, labels=[f"{t[k]}" for t in times.values()], fontsize=7, padding=1)
    axes.set_yscale("log")
    axes.set_xticks(range(len(times)), list(times))
    axes.set_ylabel("response time, ms (log scale)")
    axes.set_title("The same load, the same pool: response times by algorithm", fontsize=10)
    axes.legend(frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return figure
