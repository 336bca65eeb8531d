"""The digest benchmark runs end to end on a small store and says what it measured."""

from __future__ import annotations

import pytest

from benchmarks import digest_bench


def test_the_digest_benchmark_builds_from_a_real_store(capsys: pytest.CaptureFixture[str]) -> None:
    assert digest_bench.main(["--reviews", "120", "--mentions", "15", "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "120 pending reviews, 15 unanswered mentions" in out
    (store_line,) = [line for line in out.splitlines() if "from the store" in line]
    assert "120 reviews read from SQLite" in store_line
    assert "pages" in store_line and "goal <= 200 ms" in store_line
