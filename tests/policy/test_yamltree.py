"""The YAML reader keeps positions and refuses what could hurt."""

from __future__ import annotations

from bot.policy.yamltree import parse_tree


def test_positions_are_one_based_for_keys_and_values() -> None:
    root, problems = parse_tree("a: 1\nb:\n  - x\n  - {c: true}\n")
    assert root is not None and not problems
    assert (root.keys["b"].line, root.keys["b"].col) == (2, 1)
    item = root.value["b"].value[1]
    assert (item.line, item.col) == (4, 5) and item.value["c"].value is True
    assert root.plain() == {"a": 1, "b": ["x", {"c": True}]}


def test_yaml_1_2_scalars() -> None:
    root, _ = parse_tree('a: 09:00\nb: yes\nc: "1"\nd: null\ne: 1.5\nf: 0x1F\n')
    assert root is not None
    assert root.plain() == {"a": "09:00", "b": "yes", "c": "1", "d": None, "e": 1.5, "f": 31}


def test_aliases_expand_but_bombs_and_cycles_stop() -> None:
    root, problems = parse_tree("a: &x [1, 2]\nb: *x\n")
    assert root is not None and root.plain() == {"a": [1, 2], "b": [1, 2]} and not problems
    bomb = "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    root, problems = parse_tree(bomb)
    assert root is None and "too large" in problems[-1][2]
    root, problems = parse_tree("&a [*a]")
    assert root is None and "refers to itself" in problems[0][2]


def test_duplicate_keys_reported_with_the_first_line() -> None:
    root, problems = parse_tree("a: 1\nb: 2\na: 3\n")
    assert root is not None and root.value["a"].value == 1
    assert problems == [(3, 1, "duplicate key 'a' (first at line 1)")]


def test_reused_anchor_is_a_problem_not_a_warning() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may leak out as a warning
        root, problems = parse_tree("a: &x 1\nb: &x 2\n")
    assert root is not None
    assert problems == [(2, 4, "found duplicate anchor 'x' (first at line 1)")]
