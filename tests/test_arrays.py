"""`standardise`: unit columns, constant columns 0, in the table's own precision."""

import numpy as np
import pytest

from rec_env.arrays import standardise


def test_columns_get_mean_0_and_std_1_as_float32():
    table = np.random.default_rng(0).normal([3.0, -50.0], [0.5, 20.0], size=(500, 2))
    scaled = standardise(table)
    assert scaled.dtype == np.float32 and scaled.shape == (500, 2)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0, rtol=1e-5)


@pytest.mark.parametrize("value", [0.0, 1.0, 0.1, 7.7, 1234.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_constant_columns_become_0(value, dtype):
    # the float32 std of 7.7 repeated 1682 times is 1e-4, not 0: scaling by it would blow up
    table = np.column_stack([np.full(1_682, value), np.arange(1_682.0) % 2]).astype(dtype)
    scaled = standardise(table)
    assert (scaled[:, 0] == 0.0).all()
    np.testing.assert_allclose(np.unique(scaled[:, 1]), [-1.0, 1.0])


def test_computed_in_the_tables_precision():
    table = np.random.default_rng(1).random((100, 3))
    assert np.array_equal(
        standardise(table), ((table - table.mean(0)) / table.std(0)).astype(np.float32)
    )
    small = table.astype(np.float32)
    assert np.array_equal(standardise(small), (small - small.mean(0)) / small.std(0))


def test_integer_and_empty_feature_tables():
    np.testing.assert_allclose(standardise(np.array([[0], [2]])), [[-1.0], [1.0]])
    assert standardise(np.zeros((4, 0), dtype=np.float32)).shape == (4, 0)
