from pipelines import text_table


def test_columns_fit_their_widest_cell_and_numbers_align_right():
    lines = text_table.align([("metric", "candidate"), ("sparse_categorical_crossentropy", "0.31"),
                              ("auc", "0.9052")], right={1}, indent="  ")
    assert lines == ["  metric                           candidate",
                     "  sparse_categorical_crossentropy       0.31",
                     "  auc                                 0.9052"]


def test_no_trailing_spaces_and_no_rows_no_lines():
    assert text_table.align([("a", ""), ("bbb", "")]) == ["a", "bbb"]
    assert text_table.align([]) == []
