"""Fit the segmenter's three learned decisions on generated TUNING pages (CMRC 2018 train
articles): where each short unpunctuated line belongs (headline of the body above / below, a
subhead, body text cut short), whether a new piece starts between two paragraphs, and which
later paragraph resumes an interrupted one. Labels come from the pages' known articles; the
features are the segmenter's own (qa/segment/signals.py). The headline and resumption models
are perceptrons with one hidden layer of 8 ReLU units (features combine: a headline that matches
the body below while that body breaks with the one above); the split model is logistic. The
held-out figure is `python bench/segmentation.py --split heldout`.

    python bench/fit_segmenter.py --pages 1000 [--seed 1] [--hidden 8] [--resume-hidden 8] [--write]

--write stores the weights in qa/models/segmenter.json (atomically). Needs scikit-learn
(`pip install -e '.[train]'`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from qa.segment.signals import (FRAG, MODEL_FILE, NEXT, PREV, RESUME_FEATURES, SPLIT_FEATURES, SUB,  # noqa: E402
                                TITLE_FEATURES, Classifier, blank_share, resume_row, split_row, title_rows)
from qa.segment.units import BODY, _units, has_blank_lines, is_wrapped, title_runs  # noqa: E402
from segpages import Page, build_pages  # noqa: E402
from qa.segment.articles import merge_fragments  # noqa: E402


def unit_truth(page: Page, units) -> list[int]:
    """Per unit, the index of the truth article holding most of its characters (-1: none)."""
    owner = np.full(len(page.text), -1, dtype=np.int32)
    for a, art in enumerate(page.articles):
        for s, e in art.sentences:
            owner[s:e] = a
    out = []
    for u in units:
        votes = np.concatenate([owner[s:e] for s, e in u.spans])
        votes = votes[votes >= 0]
        out.append(int(np.bincount(votes).argmax()) if len(votes) else -1)
    return out


def title_examples(page: Page, units, truth: list[int]) -> tuple[list, list, list]:
    """Feature rows, PREV/NEXT/SUB/FRAG labels and unit indices of the title lines whose place is
    known (FRAG: body text of a known article printed as a short line)."""
    rows, labels, where = [], [], []
    blank, wrapped = has_blank_lines(page.text), is_wrapped(page.text)
    for i, j in title_runs(units):
        above = next((truth[k] for k in range(i - 1, -1, -1) if units[k].kind == BODY and truth[k] >= 0), -1)
        below = next((truth[k] for k in range(j, len(units)) if units[k].kind == BODY and truth[k] >= 0), -1)
        feats = title_rows(units, i, j, blank, dict(zip(where, labels)), wrapped)
        for k in range(i, j):
            if truth[k] >= 0:  # its characters are body text of a known article
                rows.append(feats[k - i])
                labels.append(FRAG)
                where.append(k)
                continue
            text = units[k].text.strip()
            owners = [a for a, art in enumerate(page.articles) if art.title and text in art.title.split(" ")
                      or (art.title and text == art.title)]
            if above in owners:
                label = PREV
            elif below in owners:
                label = NEXT
            elif not owners and above >= 0 and above == below:
                label = SUB
            else:
                continue  # a line the page does not print as any headline next to it: not learnable
            rows.append(feats[k - i])
            labels.append(label)
            where.append(k)
    return rows, labels, where


def resume_examples(units, truth: list[int], placed: dict[int, int]) -> tuple[list, list]:
    """Rows, 0/1 labels (does candidate q carry on the interrupted paragraph p) and p per row."""
    rows, labels, groups = [], [], []
    for p, u in enumerate(units):
        if u.kind != BODY or not u.unfinished or truth[p] < 0:
            continue
        for q in range(p + 2, min(len(units), p + 80)):
            v = units[q]
            if v.kind != BODY or v.lead or v.caption:
                continue
            between = {truth[k] for k in range(p + 1, q) if truth[k] >= 0}
            rows.append(resume_row(units, p, q, placed))
            labels.append(int(truth[q] == truth[p] and bool(between - {truth[p]})))
            groups.append(p)
    return rows, labels, groups


def split_examples(page: Page, units, truth: list[int]) -> tuple[list, list]:
    """Rows and 0/1 labels of adjacent body paragraphs: does another piece start at the second."""
    rows, labels = [], []
    blank, share = has_blank_lines(page.text), blank_share(units)
    for i in range(1, len(units)):
        if units[i].kind == BODY and units[i - 1].kind == BODY and not units[i].lead and not units[i].caption \
                and truth[i] >= 0 and truth[i - 1] >= 0:
            rows.append(split_row(units, i, blank, share))
            labels.append(int(truth[i] != truth[i - 1]))
    return rows, labels


def choose_threshold(prob: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> float:
    """The probability above which the likeliest candidate is taken, most often right per
    interrupted paragraph (taking the true one, or none when it has none)."""
    best, best_right = 0.5, -1
    cut_points = np.unique(groups)
    for tau in np.arange(0.05, 0.96, 0.05):
        right = 0
        for g in cut_points:
            m = groups == g
            k = int(np.argmax(prob[m]))
            right += bool(labels[m][k]) if prob[m][k] > tau else not labels[m].any()
        if right > best_right:
            best, best_right = float(round(tau, 2)), right
    return best


def fit(rows: np.ndarray, labels: np.ndarray, features: tuple[str, ...], balanced: bool = True,
        hidden: int = 0) -> Classifier:
    """A logistic model (hidden=0) or a one-hidden-layer perceptron (hidden ReLU units) on
    standardised features; seeded, so a refit reproduces the weights."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    mean = rows.mean(axis=0)
    scale = np.where(rows.std(axis=0) > 1e-9, rows.std(axis=0), 1.0)
    x = (rows - mean) / scale
    if not hidden:
        clf = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced" if balanced else None)
        clf.fit(x, labels)
        return Classifier(features, np.asarray(clf.coef_), np.asarray(clf.intercept_), mean, scale)
    net = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=1e-2, max_iter=600, early_stopping=True,
                        n_iter_no_change=20, random_state=0)
    net.fit(x, labels)
    (w1, w2), (b1, b2) = net.coefs_, net.intercepts_  # a binary net keeps one logit column, as Classifier does
    return Classifier(features, w2.T, b2, mean, scale, ((w1, b1),))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1, help="page seed (the benchmark reports seed 0)")
    ap.add_argument("--hidden", type=int, default=8, help="hidden units of the headline model (0: logistic)")
    ap.add_argument("--resume-hidden", type=int, default=8, help="hidden units of the resumption model")
    ap.add_argument("--fragment-prior", type=float, default=1.0,
                    help="log-odds added to 'body text cut short' for a line right after body text "
                         "(chosen on tuning pages: 0 / 1 / 2 stitch 79.8 / 81.2 / 82.1%% of resumed articles on "
                         "1,200 pages of seed 5; 2 breaks the seed page)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    t_rows, t_labels, r_rows, r_labels, r_groups, s_rows, s_labels = [], [], [], [], [], [], []
    for page_no, page in enumerate(build_pages("tune", args.pages, args.seed)):
        units = _units(page.text)
        truth = unit_truth(page, units)
        rows, labels, where = title_examples(page, units, truth)
        t_rows += rows
        t_labels += labels
        # The later decisions see the page as the segmenter does after the title lines: true
        # fragments merged into body text, the title lines' true places.
        units, _ = merge_fragments(units, [k for k, lab in zip(where, labels) if lab == FRAG])
        truth = unit_truth(page, units)
        _, labels, where = title_examples(page, units, truth)
        rows, labels, groups = resume_examples(units, truth, dict(zip(where, labels)))
        r_rows += rows
        r_labels += labels
        r_groups += [page_no * 10_000 + g for g in groups]  # one group per interrupted paragraph
        rows, labels = split_examples(page, units, truth)
        s_rows += rows
        s_labels += labels
    t_y, r_y = np.asarray(t_labels), np.asarray(r_labels)
    print(f"title lines: {len(t_y)} (above {int((t_y == PREV).sum())}, below {int((t_y == NEXT).sum())}, "
          f"subhead {int((t_y == SUB).sum())}, body fragment {int((t_y == FRAG).sum())}); resumption candidates: {len(r_y)} ({int(r_y.sum())} true)")
    titles = fit(np.asarray(t_rows), t_y, TITLE_FEATURES, hidden=args.hidden)
    resume = fit(np.asarray(r_rows), r_y, RESUME_FEATURES, hidden=args.resume_hidden)
    split = fit(np.asarray(s_rows), np.asarray(s_labels), SPLIT_FEATURES, balanced=False)
    print(f"paragraph junctions: {len(s_labels)} ({sum(s_labels)} new pieces)")
    threshold = choose_threshold(resume.scores(np.asarray(r_rows)), r_y, np.asarray(r_groups))
    print(f"resumption threshold {threshold}")
    for name, model in (("titles", titles), ("resume", resume), ("split", split)):
        for c, row in enumerate(model.weights if not model.hidden else []):
            print(name, c, " ".join(f"{f}={w:+.2f}" for f, w in zip(model.features, row)))
    if args.write:
        data = {"fitted_on": f"{args.pages} generated tuning pages (CMRC 2018 train articles, seed {args.seed}); "
                             "python bench/fit_segmenter.py --write",
                "titles": titles.to_json(), "split": split.to_json(), "resume": resume.to_json(), "resume_threshold": threshold,
                "fragment_prior": args.fragment_prior}
        tmp = MODEL_FILE.with_name(MODEL_FILE.name + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, MODEL_FILE)
        print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
