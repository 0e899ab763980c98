"""Charts of a brief as PNG images (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from otklik.analytics.schemas import Dashboard  # noqa: E402

#: DejaVu Sans ships inside matplotlib, so Cyrillic renders on any machine.
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
REGULAR_FONT = FONT_DIR / "DejaVuSans.ttf"
BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"
COLORS = ("#1f5fa8", "#e07b28", "#3a9a5b", "#c0392b")


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _style() -> None:
    font_manager.fontManager.addfont(str(REGULAR_FONT))
    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False})


def volume_chart(dashboard: Dashboard) -> bytes:
    """Messages and cases per day."""
    _style()
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    for series, color in zip(dashboard.volume, COLORS, strict=False):
        labels = [p.label for p in series.points]
        ax.plot(range(len(labels)), [p.value for p in series.points], color=color,
                linewidth=1.6, label=series.name)
    labels = [p.label for p in dashboard.volume[0].points] if dashboard.volume else []
    step = max(1, len(labels) // 10)
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=0)
    ax.set_ylabel("в день")
    ax.set_title("Сообщения и обращения по дням")
    ax.legend(frameon=False, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def topics_chart(dashboard: Dashboard, top: int = 8) -> bytes:
    """Topic shares now, with the previous period's share as a marker."""
    _style()
    rows = [t for t in dashboard.topics if t.messages][:top][::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * max(len(rows), 3) + 0.8))
    names = [t.name if len(t.name) <= 40 else t.name[:38] + "…" for t in rows]
    ax.barh(names, [100 * t.share for t in rows], color=COLORS[0], label="сейчас")
    ax.scatter([100 * t.share_previous for t in rows], names, color=COLORS[1], zorder=3,
               s=18, label="предыдущий период" if dashboard.period.complete
               else "то же время прошлого периода")
    for i, t in enumerate(rows):
        ax.text(100 * t.share + 0.5, i, f"{100 * t.share:.0f}%", va="center", fontsize=8)
    ax.set_xlabel("доля сообщений, %")
    ax.set_title("Темы сообщений")
    ax.legend(frameon=False, loc="lower right")
    return _png(fig)
