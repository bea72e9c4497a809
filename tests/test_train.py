"""fit_model on synthetic sparse data: tuning subsample, selection and threshold."""

import numpy as np
import scipy.sparse as sp

from pipe.model_settings import DEFAULT_MODEL_SETTINGS
from pipe.train import fit_model, tuning_subsample


def synthetic(n=900, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, 40, density=0.2, format="csr", random_state=seed, dtype=np.float32)
    signal = np.asarray(X[:, 0].todense()).ravel() + np.asarray(X[:, 1].todense()).ravel()
    y = (signal + 0.3 * rng.random(n) > np.quantile(signal, 0.8)).astype(int)
    return X, y


def test_tuning_subsample_stratified():
    y = np.array([1] * 100 + [0] * 900)
    rows = tuning_subsample(y, 200, seed=1)
    assert len(rows) == 200
    assert np.all(np.diff(rows) > 0)
    assert y[rows].sum() == 20


def test_tuning_subsample_small_split_whole():
    y = np.array([0, 1] * 50)
    assert np.array_equal(tuning_subsample(y, 200, seed=1), np.arange(100))


def test_fit_model_tunes_on_subsample():
    X, y = synthetic()
    settings = {**DEFAULT_MODEL_SETTINGS, "trials": 2, "folds": 2, "tuning_max_entities": 300}
    trained = fit_model(X, y, [f"f{i}" for i in range(40)], settings, seed=0)

    assert trained.tuning_entities == 300
    assert len(trained.trials) == 2
    assert trained.trials[0]["params"]["n_estimators"] == 200
    # The final model is fitted on every training row, not on the subsample.
    assert trained.pipeline[-1].estimators_[0].tree_.weighted_n_node_samples[0] > 300
    assert trained.feature_names[:2] == ["f0", "f1"]
    assert 0.0 < trained.threshold < 1.0
