"""Trains an SVM on the shipped iris dataset and prints its held-out accuracy as Katib's StdOut collector reads it.

Usage: train_iris.py --data examples/iris/iris.csv --C 1.0 --kernel rbf
"""
import argparse
import csv

from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    features = [[float(r["sepal_length"]), float(r["sepal_width"]), float(r["petal_length"]), float(r["petal_width"])] for r in rows]
    labels = [r["species"] for r in rows]
    return features, labels


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--C", type=float, required=True)
    parser.add_argument("--kernel", default="rbf")
    args = parser.parse_args()

    x, y = load(args.data)
    # A fixed, stratified split: every trial is judged on the same held-out flowers.
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=42, stratify=y)
    model = make_pipeline(StandardScaler(), SVC(C=args.C, kernel=args.kernel))
    model.fit(x_train, y_train)
    print(f"training C={args.C} kernel={args.kernel} on {len(x_train)} rows")
    print(f"accuracy={model.score(x_test, y_test):.4f}")


if __name__ == "__main__":
    main()
