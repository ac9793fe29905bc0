"""How well can `c100_valid` and `in16_valid` be ranked from the other NAS-Bench-201
columns, and how many of the target's own values does it take?

Context: issue #5 asks for Kendall tau >= 0.90 (c100) and >= 0.87 (in16) after 20
observations of the target, from a meta-model trained without the target's family.
This script measures the ceilings that bound any such method, on the shipped table
(`datasets/nb201.csv.gz`), with the accuracy sources `cargo xtask bench-aen` gives
the meta-model (the other two datasets' 200-epoch and 12-epoch validation columns;
it also reads the cost and latency columns, which this script leaves out):

1. noise: tau between the target's validation and test halves (the same trained
   networks evaluated on two halves of the test set);
2. a linear model on the sources' normal scores fitted on *all* target values
   (in-sample: the ceiling of any method that weighs the sources linearly);
3. gradient-boosted trees (scikit-learn) on the sources, and on the sources plus
   the cell's operations one-hot, fitted on n random target values and scored on
   the rest (n = 20 ... 8,000; 3 draws), and with 5-fold cross-validation;
4. the same linear model fitted on 20 random target values (as normal scores of
   those 20), the setting of the goal (10 draws);
5. every column of the other two datasets, the test and NATS re-run columns that
   the meta-model does not read included: the best single one, the mean of the
   200-epoch ones' normal scores (no target value used), and a linear model on all
   of them fitted on all target values (in-sample).

Needs pandas, scipy and scikit-learn (CPU wheels from PyPI). About 2 minutes on 2 cores.
Prints a markdown table.

    python benches/analysis/nb201_transfer_ceilings.py
"""

import argparse
import pathlib

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, norm, rankdata
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import KFold

OPERATIONS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
TARGETS = {
    "c100_valid": ["c10v_valid", "c10v_valid_hp12", "in16_valid", "in16_valid_hp12"],
    "in16_valid": ["c10v_valid", "c10v_valid_hp12", "c100_valid", "c100_valid_hp12"],
}
TEST_HALF = {"c100_valid": "c100_test", "in16_valid": "in16_test"}


def normal_scores(values):
    ranks = rankdata(values)
    return norm.ppf((ranks - 0.5) / len(values))


def other_datasets_columns(table, target):
    """Every accuracy column of the two datasets that are not the target's."""
    family = target.split("_")[0].rstrip("v")
    return [
        c
        for c in table.columns
        if c not in ("index", "arch")
        and not c.startswith(("params", "flops"))
        and c.split("_")[0].rstrip("v") != family
    ]


def tau(a, b):
    return kendalltau(a, b)[0]


def boosted_trees(n):
    return HistGradientBoostingRegressor(
        max_iter=300, learning_rate=0.05, min_samples_leaf=min(20, max(2, n // 10)), random_state=0
    )


def operations_one_hot(table):
    edges = table["arch"].str.replace("+", "", regex=False).str.strip("|").str.split("|")
    return np.array([[1.0 if e.split("~")[0] == op else 0.0 for e in cell for op in OPERATIONS] for cell in edges])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = pathlib.Path(__file__).resolve().parents[2] / "datasets" / "nb201.csv.gz"
    parser.add_argument("--table", default=str(default))
    args = parser.parse_args()
    table = pd.read_csv(args.table)
    one_hot = operations_one_hot(table)
    print("| target | measure | Kendall tau |")
    print("|---|---|---|")
    for target, sources in TARGETS.items():
        y = table[target].to_numpy()
        scores = normal_scores(y)
        s = np.column_stack([normal_scores(table[c]) for c in sources])
        with_bias = np.column_stack([s, np.ones(len(y))])
        row = lambda what, value: print(f"| {target} | {what} | {value} |")
        row(f"noise: {target} vs {TEST_HALF[target]}", f"{tau(y, table[TEST_HALF[target]]):.3f}")
        weights = np.linalg.lstsq(with_bias, scores, rcond=None)[0]
        row("linear on the sources, fitted on all 15,625 (in-sample)", f"{tau(with_bias @ weights, y):.3f}")
        for name, features in [("sources", s), ("sources + operations", np.hstack([s, one_hot]))]:
            predicted = np.zeros(len(y))
            for train, test in KFold(5, shuffle=True, random_state=0).split(features):
                predicted[test] = boosted_trees(len(train)).fit(features[train], scores[train]).predict(features[test])
            row(f"boosted trees on the {name}, 5-fold cross-validation (12,500 labels per fit)", f"{tau(predicted, y):.3f}")
        for n in [20, 100, 500, 2000, 8000]:
            taus = []
            for draw in range(3):
                order = np.random.default_rng(draw).permutation(len(y))
                train, test = order[:n], order[n:]
                model = boosted_trees(n).fit(s[train], scores[train])
                taus.append(tau(model.predict(s[test]), y[test]))
            row(f"boosted trees on the sources, {n} labels, scored on the rest (3 draws)", f"{np.mean(taus):.3f} ± {np.std(taus):.3f}")
        taus = []
        for draw in range(10):
            observed = np.random.default_rng(draw).choice(len(y), 20, replace=False)
            rest = np.setdiff1d(np.arange(len(y)), observed)
            weights = np.linalg.lstsq(with_bias[observed], normal_scores(y[observed]), rcond=None)[0]
            taus.append(tau(with_bias[rest] @ weights, y[rest]))
        row("linear on the sources, fitted on 20 labels (their normal scores), scored on the rest (10 draws)", f"{np.mean(taus):.3f} ± {np.std(taus):.3f}")
        columns = other_datasets_columns(table, target)
        best = max(columns, key=lambda c: tau(table[c], y))
        row(f"best single column of the other datasets, test and NATS columns included ({best})", f"{tau(table[best], y):.3f}")
        full = [c for c in columns if "hp12" not in c]
        mean_score = np.mean([normal_scores(table[c]) for c in full], axis=0)
        row(f"mean normal score of their 200-epoch columns ({', '.join(full)}; no target value)", f"{tau(mean_score, y):.3f}")
        every = np.column_stack([normal_scores(table[c]) for c in columns] + [np.ones(len(y))])
        weights = np.linalg.lstsq(every, scores, rcond=None)[0]
        row(f"linear on all {len(columns)} columns of the other datasets, fitted on all 15,625 (in-sample)", f"{tau(every @ weights, y):.3f}")


if __name__ == "__main__":
    main()
