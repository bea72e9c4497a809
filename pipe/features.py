"""Features stage: feature families in the warehouse, one sparse matrix in Python.

Each family's template returns long rows ``(entity_id, feature, value)``;
this module turns them into a CSR matrix with one row per entity and one
column per feature name. Matrices are saved as ``features.npz`` (no pickles)
and loaded back with ``load_features`` or, as a DataFrame, with
``load_features(path).to_frame()``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from pipe.context import Context
from pipe.labels import upload_eligible
from pipe.registry import Definition

log = logging.getLogger(__name__)

#: Default of the ``min_support`` setting: a feature is kept when at least this
#: many training entities have a non-zero value in it.
DEFAULT_MIN_SUPPORT = 5


@dataclass
class FeatureMatrix:
    """A sparse feature matrix with its row and column labels.

    Attributes
    ----------
    X : scipy.sparse.csr_matrix of shape (n_entities, n_features), float32
    entity_ids : ndarray of shape (n_entities,), int64, sorted ascending
    feature_names : list of str, length n_features
    """

    X: sp.csr_matrix
    entity_ids: np.ndarray
    feature_names: list[str]

    def to_frame(self) -> pd.DataFrame:
        """Return the matrix as a DataFrame of sparse columns indexed by ``entity_id``."""
        frame = pd.DataFrame.sparse.from_spmatrix(self.X, index=pd.Index(self.entity_ids, name="entity_id"), columns=self.feature_names)
        return frame

    def save(self, path: Path) -> None:
        """Write the matrix to ``path`` as an uncompressed, pickle-free ``.npz``."""
        X = self.X.tocsr()
        with open(path, "wb") as handle:
            np.savez(
                handle,
                data=X.data,
                indices=X.indices,
                indptr=X.indptr,
                shape=np.asarray(X.shape, dtype=np.int64),
                entity_ids=self.entity_ids,
                feature_names=np.asarray(self.feature_names, dtype=str),
            )

    def align(self, feature_names: list[str]) -> "FeatureMatrix":
        """Return the matrix with exactly ``feature_names`` as columns, in that order.

        Columns that this matrix lacks are all zero; its own columns not in
        ``feature_names`` are dropped. Used to score new entities with a model
        trained on other columns.
        """
        position = {name: i for i, name in enumerate(self.feature_names)}
        source = np.array([position.get(name, -1) for name in feature_names], dtype=np.int64)
        present = source >= 0
        selector = sp.csr_matrix(
            (np.ones(int(present.sum()), dtype=np.float32), (source[present], np.flatnonzero(present))),
            shape=(len(self.feature_names), len(feature_names)),
        )
        return FeatureMatrix((self.X @ selector).tocsr(), self.entity_ids, list(feature_names))


def load_features(path: Path) -> FeatureMatrix:
    """Read a matrix written by ``FeatureMatrix.save``.

    Examples
    --------
    >>> frame = load_features("pipe-projects/NAME/features.npz").to_frame()  # doctest: +SKIP
    """
    with np.load(path, allow_pickle=False) as stored:
        X = sp.csr_matrix((stored["data"], stored["indices"], stored["indptr"]), shape=tuple(stored["shape"]))
        return FeatureMatrix(X, stored["entity_ids"], [str(n) for n in stored["feature_names"]])


def entity_positions(entity_ids: np.ndarray, row_ids: np.ndarray) -> np.ndarray:
    """Return the index in ``entity_ids`` (sorted ascending) of each of ``row_ids``.

    Raises ValueError when a row's id is not in ``entity_ids``. Ids that span
    a range at most a few times the number of entities, as warehouse ids
    usually do, are looked up in a dense table, which is several times faster
    than a binary search over millions of rows.
    """
    if len(row_ids) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(entity_ids) == 0:
        found = False
    elif int(entity_ids[-1]) - int(entity_ids[0]) < 4 * len(entity_ids) + 1_000_000:
        low, high = int(entity_ids[0]), int(entity_ids[-1])
        lookup = np.full(high - low + 1, -1, dtype=np.int64)
        lookup[entity_ids - low] = np.arange(len(entity_ids))
        inside = (row_ids >= low) & (row_ids <= high)
        positions = lookup[np.where(inside, row_ids - low, 0)]
        found = bool(inside.all()) and not (positions < 0).any()
    else:
        positions = np.minimum(np.searchsorted(entity_ids, row_ids), len(entity_ids) - 1)
        found = np.array_equal(entity_ids[positions], row_ids)
    if not found:
        unknown = np.setdiff1d(row_ids, entity_ids)[:3].tolist()
        raise ValueError(f"feature rows name entity ids that are not in pipe_eligible, such as {unknown}; a family's template must return only eligible entities")
    return positions


def long_rows_to_matrix(rows: pa.Table, entity_ids: np.ndarray) -> FeatureMatrix:
    """Pivot long rows into a CSR matrix whose columns are sorted by name.

    ``entity_ids`` must be sorted ascending and contain every ``entity_id`` of
    ``rows``. Repeated (entity, feature) pairs are summed, and values that are
    zero are dropped, so that every stored value is non-zero.
    """
    encoded = pc.dictionary_encode(rows.column("feature")).combine_chunks()
    names = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    columns = rank[encoded.indices.to_numpy(zero_copy_only=False)]

    row_ids = rows.column("entity_id").to_numpy().astype(np.int64, copy=False)
    positions = entity_positions(entity_ids, row_ids)
    values = rows.column("value").to_numpy().astype(np.float32, copy=False)

    X = sp.coo_matrix((values, (positions, columns)), shape=(len(entity_ids), len(names))).tocsr()
    X.sum_duplicates()
    X.eliminate_zeros()
    return FeatureMatrix(X, entity_ids, [str(n) for n in names[order]])


def drop_rare_features(matrix: FeatureMatrix, min_support: int) -> tuple[FeatureMatrix, int]:
    """Drop the columns that fewer than ``min_support`` entities have a non-zero value in.

    Returns the matrix of the kept columns, in their order, and the number of
    columns dropped.
    """
    support = matrix.X.getnnz(axis=0)
    keep = np.flatnonzero(support >= min_support)
    dropped = len(matrix.feature_names) - len(keep)
    if dropped == 0:
        return matrix, 0
    X = matrix.X[:, keep].tocsr()
    names = [matrix.feature_names[i] for i in keep]
    return FeatureMatrix(X, matrix.entity_ids, names), dropped


def family_matrices(ctx: Context, entity_ids: np.ndarray) -> Iterator[tuple[Definition, FeatureMatrix | None, dict]]:
    """Run each feature family that applies to the cohort, one at a time.

    ``pipe_eligible`` must already hold the entities of ``entity_ids`` (sorted
    ascending). Yields the family, its matrix (None when the warehouse lacks a
    table it needs, which is logged as a warning) and its report entry:
    family, status, features, rows and seconds.
    """
    for family in ctx.registry.families_for(ctx.spec.cohort.status):
        missing = ctx.missing_tables(family)
        if missing:
            log.warning("feature family %s skipped: the warehouse has no %s table", family.name, ", ".join(missing))
            yield family, None, {"family": family.name, "status": f"skipped: no table {', '.join(missing)}", "features": 0, "rows": 0}
            continue
        started = time.perf_counter()
        rows = ctx.query(family.template, f"features {family.name}")
        block = long_rows_to_matrix(rows, entity_ids)
        entry = {
            "family": family.name,
            "status": "built",
            "features": len(block.feature_names),
            "rows": rows.num_rows,
            "seconds": round(time.perf_counter() - started, 3),
        }
        del rows  # frees the long rows before the next family runs
        yield family, block, entry


def build_features(ctx: Context, raw: pd.DataFrame, min_support: int = 1,
                   family_log_level: int = logging.INFO) -> tuple[FeatureMatrix, list[dict]]:
    """Run every feature family that applies to the cohort and stack the results.

    Families whose tables the warehouse lacks are skipped with a warning. A
    feature that fewer than ``min_support`` entities have a non-zero value in
    is dropped; the default of 1 keeps every feature that any entity has.
    Scoring must keep the default, because a model's columns were fixed when
    it was trained. Each family's counts are logged at ``family_log_level``,
    so scoring, which runs daily, can log them at DEBUG.

    Returns
    -------
    matrix : FeatureMatrix
        One row per entity of ``raw``, in ascending ``entity_id`` order.
    families : list of dict
        Per family: name, status (built or skipped and why), features kept,
        features dropped below ``min_support``, long rows and seconds.
    """
    entity_ids = np.sort(raw["entity_id"].to_numpy(dtype=np.int64))
    upload_eligible(ctx, raw)

    blocks, report = [], []
    for family, block, entry in family_matrices(ctx, entity_ids):
        if block is not None:
            block, dropped = drop_rare_features(block, min_support)
            entry["features"] = len(block.feature_names)
            entry["dropped_below_min_support"] = dropped
            log.log(family_log_level, "feature family %s: %d features kept, %d dropped with fewer than %d entities",
                    family.name, entry["features"], dropped, min_support)
            blocks.append(block)
        report.append(entry)

    if not blocks:
        X = sp.csr_matrix((len(entity_ids), 0), dtype=np.float32)
        return FeatureMatrix(X, entity_ids, []), report
    X = sp.hstack([b.X for b in blocks], format="csr", dtype=np.float32)
    names = [name for b in blocks for name in b.feature_names]
    return FeatureMatrix(X, entity_ids, names), report
