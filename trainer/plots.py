"""PNG charts for admins: a run's loss curve, and the eval gate's history across versions."""

from __future__ import annotations

import io
import json

import matplotlib

matplotlib.use("Agg")  # no display: render to bytes in any thread or child

from matplotlib.figure import Figure  # noqa: E402  (after choosing the backend)

STATUS_COLORS = {"champion": "tab:green", "retired": "tab:blue", "rejected": "tab:red", "candidate": "tab:gray"}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def loss_curve(losses: list[tuple[int, float]], title: str) -> bytes:
    """Training loss by optimizer step."""
    fig = Figure(figsize=(6, 3.2))
    ax = fig.add_subplot()
    if losses:
        steps, values = zip(*losses)
        ax.plot(steps, values, marker="o" if len(steps) < 40 else None, color="tab:blue")
    else:
        ax.text(0.5, 0.5, "no loss was logged", ha="center", va="center", transform=ax.transAxes)
    ax.set(title=title, xlabel="step", ylabel="training loss")
    ax.grid(alpha=0.3)
    return _png(fig)


def eval_history(versions: list[dict], metric: str) -> bytes:
    """Each fine-tuned version's holdout ``metric`` beside the champion it was measured against, coloured by status."""
    fig = Figure(figsize=(6.5, 3.4))
    ax = fig.add_subplot()
    rows = [(v, json.loads(v["metrics"])) for v in versions if v.get("metrics")]
    rows = [(v, m) for v, m in rows if metric in m.get("candidate", {})]
    if rows:
        x = range(len(rows))
        ax.plot(x, [m["baseline"][metric] for _, m in rows], "s--", color="tab:gray", label="serving model at the time")
        for i, (v, m) in enumerate(rows):
            ax.scatter([i], [m["candidate"][metric]], s=60, color=STATUS_COLORS.get(v["status"], "tab:gray"), zorder=3)
        ax.plot(x, [m["candidate"][metric] for _, m in rows], color="tab:blue", alpha=0.4, label="candidate")
        ax.set_xticks(list(x), [v["name"] for v, _ in rows])
        for status, color in STATUS_COLORS.items():
            ax.scatter([], [], color=color, label=status)
        ax.legend(fontsize=7, loc="best")
    else:
        ax.text(0.5, 0.5, "no evaluated versions yet", ha="center", va="center", transform=ax.transAxes)
    ax.set(title=f"Holdout {metric} by version", xlabel="version", ylabel=metric)
    ax.grid(alpha=0.3)
    return _png(fig)
