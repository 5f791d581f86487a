"""Line numbers of CSV rows, checked against Python's csv module on generated files."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klantreis.collect.imports.readers import LINE_COLUMN, Source, corrected_lines

cell = st.text(alphabet=st.sampled_from(list("ab ,;\"'\n\r\tx1é")), min_size=0, max_size=12).filter(
    lambda s: s.strip() != "" or s == ""
)
row = st.lists(cell, min_size=3, max_size=3)


def _expected_lines(text: str) -> list[int]:
    """Start line of each row, lines ending at "\n" only (as `wc -l`, `sed -n` and grep count)."""
    reader = csv.reader(io.StringIO(text, newline="\n"))
    next(reader)
    starts, start = [], reader.line_num + 1
    for fields in reader:
        if len(fields) == 3:  # a short line is rejected by the reader
            starts.append(start)
        start = reader.line_num + 1
    return starts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(row, min_size=1, max_size=25),
    short=st.sets(st.integers(min_value=0, max_value=25), max_size=3),
)
def test_line_numbers_match_the_csv_module(rows, short):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(["alpha", "beta", "gamma"])
    for index, fields in enumerate(rows):
        if index in short:
            buffer.write("short line\n")  # one field: the reader rejects it
        writer.writerow(fields)
    text = buffer.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.csv"
        path.write_text(text, newline="")
        source = Source.open(path, "csv", delimiter=",", quote='"')
        table = source.read_all()
        rejected = source.rejected()
        lines = corrected_lines(table.column(LINE_COLUMN).to_pylist(), rejected)
    assert lines == _expected_lines(text), text
    assert table.num_rows == len(rows)
    assert len(rejected) == len([i for i in short if i < len(rows)])
