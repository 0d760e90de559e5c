"""Logged feed data: the canonical schema, datasets and fixed-shape list tensors.

>>> from rec_env.data import load_dataset, LoggedLists, split_lists
>>> dataset = load_dataset("synthetic", n_requests=1_000, progress=False)
>>> lists = LoggedLists.from_dataset(dataset)
>>> lists.items.shape
(1000, 10)
"""

from rec_env.data.catalogue import Catalogue, item_counts
from rec_env.data.chunked import ParquetLists, write_lists_parquet
from rec_env.data.dataset import LogDataset, LogFileError, dataset_from_log, load_log
from rec_env.data.features import LogDataWarning
from rec_env.data.fetch import DatasetFetchError, cache_dir
from rec_env.data.lists import PAD_ITEM, LoggedLists, Splits, split_lists, split_rows
from rec_env.data.registry import (
    DATASETS,
    FEW_CLICKS,
    NAMES,
    PUBLIC_DATASETS,
    PUBLIC_WITH_AUC,
    SYNTHETIC_PRESETS,
    is_synthetic,
    load_dataset,
)
from rec_env.data.schema import REQUIRED_COLUMNS, LogValidationError, validate_log
from rec_env.data.synthetic import SyntheticConfig, SyntheticWorld, generate_synthetic
from rec_env.data.vocabulary import IdVocabulary, UnknownIdError, Vocabularies

__all__ = [
    "Catalogue",
    "DATASETS",
    "FEW_CLICKS",
    "NAMES",
    "PAD_ITEM",
    "PUBLIC_DATASETS",
    "PUBLIC_WITH_AUC",
    "REQUIRED_COLUMNS",
    "DatasetFetchError",
    "IdVocabulary",
    "LogDataWarning",
    "LogDataset",
    "LogFileError",
    "LogValidationError",
    "LoggedLists",
    "ParquetLists",
    "Splits",
    "SYNTHETIC_PRESETS",
    "SyntheticConfig",
    "SyntheticWorld",
    "UnknownIdError",
    "Vocabularies",
    "cache_dir",
    "dataset_from_log",
    "generate_synthetic",
    "is_synthetic",
    "item_counts",
    "load_dataset",
    "load_log",
    "split_lists",
    "split_rows",
    "validate_log",
    "write_lists_parquet",
]
