"""ONNX export of the greedy ranker: onnxruntime alone ranks as the eager ranker does."""

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from agents_testing import string_vocabularies, tiny_network

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

import agents.serving_onnx as serving_onnx  # noqa: E402
from agents.serving import GreedyRanker  # noqa: E402
from agents.serving_onnx import (  # noqa: E402
    REGISTRY_LOGGER,
    export_onnx,
    info_path,
    load_onnx_ranker,
    quiet_exporter,
    session_options,
)
from rec_env.checks import InputError  # noqa: E402

K = 2
"""slots of the test ranker: slot 1 reads the item chosen in slot 0, inside the graph"""
Q_TOLERANCE = 1e-5
"""absolute difference allowed between ONNX Runtime's and torch's float32 Q-values"""

LOADER = """
import json, sys
import numpy as np
import onnxruntime as ort

path, request_file, out_file = sys.argv[1:]
info = json.load(open(path + ".json"))
users, items = (info["vocabularies"][kind]["ids"] for kind in ("users", "items"))
user_index, item_index = ({x: i for i, x in enumerate(ids)} for ids in (users, items))
request = np.load(request_file)
feed = {
    "user_ids": np.array([user_index[u] for u in request["users"]]),
    "candidates": np.vectorize(item_index.get)(request["candidates"]),
    "valid": request["valid"],
}
slate, q = ort.InferenceSession(path).run(["slate", "q"], feed)
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"torch", "agents", "rec_env", "distill"})
np.savez(out_file, slate=np.asarray(items)[slate], q=q, loaded=np.array(loaded, dtype=str))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny network, its ONNX file (with string vocabularies) and 3 requests of 25
    candidates (the example batch had 2 of 12: both dimensions are dynamic)."""
    net, vocab = tiny_network().eval(), string_vocabularies()
    path = export_onnx(
        net, tmp_path_factory.mktemp("onnx") / "ranker.onnx", K, 12, vocabularies=vocab
    )
    candidates = torch.rand(3, 150, generator=torch.Generator().manual_seed(0)).argsort(1)[:, :25]
    valid = torch.rand(3, 25, generator=torch.Generator().manual_seed(1)) > 0.2
    inputs = (torch.tensor([4, 9, 1]), candidates, valid)
    with torch.no_grad():
        slate, q = GreedyRanker(net, K)(*inputs)
    return path, vocab, inputs, vocab.items.decode(slate.numpy()), q.numpy()


def test_onnxruntime_alone_ranks_as_the_eager_ranker(exported, tmp_path):
    path, vocab, (users, candidates, valid), slate, q = exported
    requests = tmp_path / "requests.npz"
    np.savez(
        requests,
        users=vocab.users.decode(users.numpy()).astype(str),  # npz: no object arrays
        candidates=vocab.items.decode(candidates.numpy()).astype(str),
        valid=valid.numpy(),
    )
    script = tmp_path / "serve.py"
    script.write_text(LOADER)
    out = tmp_path / "out.npz"
    # -I: isolated mode, the repository is not on sys.path
    command = [sys.executable, "-I", str(script), str(path), str(requests), str(out)]
    subprocess.run(command, check=True)
    served = np.load(out)
    assert served["loaded"].tolist() == []  # neither torch nor project code
    np.testing.assert_array_equal(served["slate"], slate)
    np.testing.assert_allclose(served["q"], q, rtol=0, atol=Q_TOLERANCE)


def test_load_onnx_ranker_checks_requests(exported):
    path, vocab, (users, candidates, valid), slate, q = exported
    ranker = load_onnx_ranker(path, session_options())
    raw_users, raw_items = vocab.users.decode(users.numpy()), vocab.items.decode(candidates.numpy())
    got_slate, got_q = ranker(raw_users, raw_items, valid)
    np.testing.assert_array_equal(got_slate, slate)
    np.testing.assert_allclose(got_q.numpy(), q, rtol=0, atol=Q_TOLERANCE)
    one_slate, _ = ranker(raw_users[:1], raw_items[:1], valid[:1])  # any batch size
    np.testing.assert_array_equal(one_slate, slate[:1])
    with pytest.raises(InputError, match=r"user_ids: unknown user ids \['u100'\]"):
        ranker(np.array(["u004", "u009", "u100"]), raw_items, valid)
    with pytest.raises(InputError, match="fewer than k=2 valid candidates"):
        ranker(raw_users, raw_items, torch.zeros_like(valid))


def test_onnx_loader_and_export_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no ONNX ranker"):
        load_onnx_ranker(tmp_path / "nothing.onnx")
    bare = tmp_path / "bare.onnx"
    bare.write_bytes(b"not read")
    with pytest.raises(InputError, match=r"no bare.onnx.json beside it"):
        load_onnx_ranker(bare)
    assert info_path(bare).name == "bare.onnx.json"
    with pytest.raises(InputError, match="n_candidates must be an int >= k=3"):
        export_onnx(tiny_network(), tmp_path / "r.onnx", 3, n_candidates=2)
    monkeypatch.setattr(serving_onnx, "missing_packages", lambda packages: ["onnxscript"])
    with pytest.raises(ImportError, match=r"needs onnxscript: pip install 'rec-listwise\[serve\]'"):
        export_onnx(tiny_network(), tmp_path / "r.onnx", 3)
    assert not (tmp_path / "r.onnx").exists()


EXPORT = """
import sys
from agents_testing import tiny_network
from agents.serving_onnx import export_onnx
export_onnx(tiny_network(), sys.argv[1], 2, 12)
"""


def test_export_prints_nothing(tmp_path):
    # a fresh process: torch's ONNX op registry logs its notes once, when first built
    root = Path(__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "tests")])}
    command = [sys.executable, "-W", "always", "-c", EXPORT, str(tmp_path / "r.onnx")]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")
    assert (tmp_path / "r.onnx").is_file()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_quiet_exporter_drops_only_the_exporters_notes():
    note = "# The axis name: batch will not be used, since it shares the same shape constraints"
    logger, records = logging.getLogger(REGISTRY_LOGGER), _Records()
    logger.addHandler(records)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with quiet_exporter():
                warnings.warn(note, UserWarning, stacklevel=1)
                warnings.warn("a real warning", UserWarning, stacklevel=1)
                logger.warning("torchvision is not installed. Skipping torchvision::nms")
                logger.warning("a real log record")
            warnings.warn(note, UserWarning, stacklevel=1)  # outside the export: shown
            logger.warning("torchvision is not installed. Skipping torchvision::nms")
    finally:
        logger.removeHandler(records)
    assert [str(w.message) for w in caught] == ["a real warning", note]
    assert records.messages == [
        "a real log record",
        "torchvision is not installed. Skipping torchvision::nms",
    ]
