"""`/list add|remove`: one list changes, every other byte stays, writes are atomic."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.policy import load_policy
from bot.policy.editing import (
    EditRefused,
    NotInList,
    PolicyChangedOnDisk,
    UnknownList,
    add_to_list,
    list_entries,
    remove_from_list,
    text_version,
)

from .helpers import POLICIES

SHIPPED = POLICIES / "late-and-announced.yaml"

BLOCK = """\
# my policy
follow_back: {role: Mutuals}   # the role

lists:
  # people I know offline
  known:
    - ada_l                    # met at a conference
    - 189234567890123456
  muted: [spam_sam, "odd name"]   # never answered
  empty:

rules:
  - {name: known, when: {in_list: known}, then: follow_back}   # friends first
  - {name: rest, then: review}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_bytes(text.encode())
    return path


def version(path: Path) -> str:
    return load_policy(path).version


def outside(text: str, start: str, end: str) -> str:
    """The text without the part between two markers (the edited list)."""
    head, rest = text.split(start, 1)
    return head + rest.split(end, 1)[1]


def test_add_to_a_block_list_keeps_every_other_byte(tmp_path: Path) -> None:
    path = write(tmp_path, BLOCK)
    edit = add_to_list(path, "known", "grace_h", version(path))
    after = path.read_text()
    assert edit.changed and "grace_h" in edit.entries and edit.version == version(path)
    assert "    - 189234567890123456\n    - grace_h\n  muted:" in after
    assert outside(after, "  known:", "  muted:") == outside(BLOCK, "  known:", "  muted:")
    assert after.replace("    - grace_h\n", "") == BLOCK  # nothing else moved


def test_add_and_remove_in_a_flow_list_and_an_empty_one(tmp_path: Path) -> None:
    path = write(tmp_path, BLOCK)
    add_to_list(path, "muted", "new.user", version(path))
    assert '  muted: [spam_sam, "odd name", new.user]   # never answered\n' in path.read_text()
    add_to_list(path, "empty", "true", version(path))  # a YAML word is quoted
    assert '  empty: ["true"]\n' in path.read_text()
    remove_from_list(path, "muted", "SPAM_SAM", version(path))  # usernames in any case
    assert '  muted: ["odd name", new.user]   # never answered\n' in path.read_text()
    remove_from_list(path, "muted", "new.user", version(path))
    remove_from_list(path, "muted", "odd name", version(path))
    assert "  muted: []   # never answered\n" in path.read_text()
    assert load_policy(path).lists["muted"] == frozenset()


def test_remove_from_a_block_list_down_to_empty(tmp_path: Path) -> None:
    path = write(tmp_path, BLOCK)
    remove_from_list(path, "known", "ada_l", version(path))
    after = path.read_text()
    assert "ada_l" not in after and "met at a conference" not in after
    assert "  # people I know offline\n  known:\n    - 189234567890123456\n" in after
    edit = remove_from_list(path, "known", "189234567890123456", version(path))
    assert edit.entries == ()
    assert "  # people I know offline\n  known: []\n  muted:" in path.read_text()
    add_to_list(path, "known", "ada_l", version(path))
    assert "  known: [ada_l]\n" in path.read_text()


def test_the_shipped_policy_keeps_its_comments(tmp_path: Path) -> None:
    original = SHIPPED.read_text()
    path = write(tmp_path, original)
    add_to_list(path, "friends", "999", version(path))
    after = path.read_text()
    assert after == original.replace(
        "[189234567890123456, ada_l]", "[189234567890123456, ada_l, 999]"
    )
    assert "999" in load_policy(path).lists["friends"]


def test_a_duplicate_is_already_there_and_nothing_is_written(tmp_path: Path) -> None:
    path = write(tmp_path, BLOCK)
    mtime = path.stat().st_mtime_ns
    edit = add_to_list(path, "known", "ADA_L", version(path))
    assert not edit.changed and edit.version == text_version(BLOCK)
    assert path.read_text() == BLOCK and path.stat().st_mtime_ns == mtime


def test_unknown_list_and_missing_entry_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, BLOCK)
    with pytest.raises(UnknownList, match=r"no list 'knwon' \(did you mean 'known'\?\)"):
        add_to_list(path, "knwon", "x", version(path))
    with pytest.raises(NotInList, match="'bob' is not in the list 'known'"):
        remove_from_list(path, "known", "bob", version(path))
    with pytest.raises(UnknownList, match="lists: empty, known, muted"):
        list_entries(load_policy(path), "friends")
    assert list_entries(load_policy(path), "muted") == ["odd name", "spam_sam"]
    assert path.read_text() == BLOCK


def test_a_file_changed_since_loading_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, BLOCK)
    loaded = version(path)
    path.write_text(BLOCK.replace("# my policy", "# my policy, edited"))
    with pytest.raises(PolicyChangedOnDisk, match="changed on disk since it was loaded; reload"):
        add_to_list(path, "known", "grace_h", loaded)
    assert "grace_h" not in path.read_text()


def test_an_edit_that_would_break_the_policy_writes_nothing(tmp_path: Path) -> None:
    # An entry that YAML reads as a mapping would make the list invalid.
    path = write(tmp_path, BLOCK.replace('  muted: [spam_sam, "odd name"]', "  muted: []"))
    before = path.read_bytes()
    import bot.policy.editing as editing

    original = editing._written
    editing._written = lambda entry: "{a: b}"  # type: ignore[assignment]
    try:
        with pytest.raises(EditRefused, match="would make the policy invalid; nothing written"):
            add_to_list(path, "muted", "x", version(path))
    finally:
        editing._written = original
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["policy.yaml"]  # no temp file left


def test_write_goes_through_a_temp_file_and_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, BLOCK)
    calls: list[tuple[str, str]] = []
    real_replace, real_fsync = os.replace, os.fsync

    def replace(src: str, dst: str | Path) -> None:
        calls.append(("replace", str(src)))
        assert Path(src).parent == tmp_path and Path(src).name.startswith(".policy.yaml.")
        assert "grace_h" in Path(src).read_text() and "grace_h" not in path.read_text()
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(("fsync", "")), real_fsync(fd)))
    add_to_list(path, "known", "grace_h", version(path))
    assert [c[0] for c in calls][:2] == ["fsync", "replace"]
    assert "grace_h" in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["policy.yaml"]


def test_a_failed_rename_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, BLOCK)

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        add_to_list(path, "known", "grace_h", version(path))
    assert path.read_text() == BLOCK and [p.name for p in tmp_path.iterdir()] == ["policy.yaml"]


def test_crlf_files_keep_their_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path, BLOCK.replace("\n", "\r\n"))
    add_to_list(path, "known", "grace_h", version(path))
    raw = path.read_bytes()
    assert b"    - grace_h\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_text_version_is_the_loaders_version() -> None:
    assert text_version(SHIPPED.read_text()) == load_policy(SHIPPED).version


def test_add_to_a_null_list_written_as_tilde(tmp_path: Path) -> None:
    path = write(tmp_path, BLOCK.replace("  empty:\n", "  empty: ~   # none yet\n"))
    add_to_list(path, "empty", "189234567890123457", version(path))
    assert "  empty: [189234567890123457]   # none yet\n" in path.read_text()
