"""Summary statistics of a `LogDataset`, as printed by ``python -m rec_env.data info NAME``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from rec_env.data.dataset import LogDataset


@dataclass(frozen=True)
class DatasetStats:
    """Counts and rates of one dataset; ``list_lengths[k]`` = number of requests with k+1 slots."""

    name: str
    users: int
    items: int
    requests: int
    slots: int
    clicks: int
    click_rate: float
    slate_size: int
    item_features: int
    user_features: int
    list_lengths: tuple[int, ...]
    click_rate_by_position: tuple[float, ...]

    def as_dict(self) -> dict:
        return asdict(self)

    def to_text(self) -> str:
        rows = [
            ("dataset", self.name),
            ("users", f"{self.users:,}"),
            ("items", f"{self.items:,}"),
            ("requests", f"{self.requests:,}"),
            ("slots (rows)", f"{self.slots:,}"),
            ("clicks", f"{self.clicks:,}"),
            ("click rate", f"{self.click_rate:.4f}"),
            ("slate size K", str(self.slate_size)),
            ("item / user features", f"{self.item_features} / {self.user_features}"),
        ]
        width = max(len(key) for key, _ in rows)
        lines = [f"{key:<{width}}  {value}" for key, value in rows]
        lines.append("list length  requests")
        lines += [f"{k + 1:>11}  {n:,}" for k, n in enumerate(self.list_lengths) if n]
        lines.append("position  click rate")
        lines += [f"{k:>8}  {rate:.4f}" for k, rate in enumerate(self.click_rate_by_position)]
        return "\n".join(lines)


def dataset_stats(dataset: LogDataset) -> DatasetStats:
    """Users, items, requests, slots, click rate, list-length histogram, CTR by position."""
    log = dataset.log
    k = dataset.slate_size
    lengths = log.groupby("request_id").size().to_numpy()
    position = log["position"].to_numpy()
    clicks = log["click"].to_numpy()
    shown = np.bincount(position, minlength=k)
    clicked = np.bincount(position, weights=clicks, minlength=k)
    ctr = np.divide(clicked, shown, out=np.full(k, np.nan), where=shown > 0)
    return DatasetStats(
        name=dataset.name,
        users=int(log["user_id"].nunique()),
        items=int(log["item_id"].nunique()),
        requests=len(lengths),
        slots=len(log),
        clicks=int(clicks.sum()),
        click_rate=float(clicks.mean()),
        slate_size=k,
        item_features=dataset.items.shape[1],
        user_features=dataset.users.shape[1],
        list_lengths=tuple(int(n) for n in np.bincount(lengths, minlength=k + 1)[1:]),
        click_rate_by_position=tuple(float(r) for r in ctr),
    )
