"""Model settings of ``pipe init`` and their defaults, kept free of heavy imports."""

#: Estimators that ``--model`` accepts; each exposes ``feature_importances_``.
ESTIMATOR_NAMES = ("random_forest", "extra_trees")

#: Defaults sized for a laptop: 8 TPE trials of 3-fold cross-validation.
DEFAULT_MODEL_SETTINGS = {
    "estimator": "random_forest",
    "trials": 8,
    "folds": 3,
    "test_size": 0.2,
    "selection_ratio": 0.1,
    "selection_tolerance": 0.005,
    # Tuning, selection and the threshold use a stratified sample of at most
    # this many training entities, so their cost stops growing with the cohort.
    "tuning_max_entities": 20_000,
}
