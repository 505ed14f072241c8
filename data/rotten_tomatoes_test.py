"""The Rotten Tomatoes preparer: what is kept, how it is split, and that reruns are no-ops."""
import pytest

from data import common
from data import rotten_tomatoes as rt

RAW = ("category,text,movie_name,has_plot_and_reviews\n"
       "plot,A synopsis.,m,True\n"
       "fresh,\"A gripping,\n  film.\",m,True\n"
       "rotten,Dull.,m,True\n"
       "fresh,\"A gripping, film.\",n,False\n"
       "rotten,   ,n,False\n")


def test_parse_drops_plot_empty_and_repeated_snippets_and_collapses_whitespace():
    assert rt.parse_rows(RAW) == [("A gripping, film.", 1), ("Dull.", 0)]


def test_parse_rejects_unknown_category():
    with pytest.raises(common.DataPreparationError, match="unexpected category 'meh'"):
        rt.parse_rows("category,text\nmeh,Hm.\n")


def test_parse_rejects_missing_columns():
    with pytest.raises(common.DataPreparationError, match="missing column"):
        rt.parse_rows("kind,review\nfresh,Yes.\n")


def test_split_is_stratified_deterministic_and_disjoint():
    rows = [(f"fresh {i}", 1) for i in range(600)] + [(f"rotten {i}", 0) for i in range(400)]
    first, second = rt.stratified_split(rows), rt.stratified_split(list(rows))
    assert first == second
    assert len(first["eval"]) == 200 and sum(label for _, label in first["eval"]) == 120
    assert not set(first["train"]) & set(first["eval"])


def test_prepare_writes_both_splits_with_majority_rate_and_is_a_noop_on_rerun(tmp_path):
    manifest = rt.prepare(tmp_path)
    assert manifest["rows"] == {"train": 10201, "eval": 2551}
    assert manifest["classes"]["eval"]["majority_class_rate"] == 0.5778
    written = rt.split_file(tmp_path, "eval").stat().st_mtime_ns
    assert rt.prepare(tmp_path) == manifest
    assert rt.split_file(tmp_path, "eval").stat().st_mtime_ns == written
