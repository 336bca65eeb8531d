"""diff_policies: what a live policy edit changed, as data and in words."""

from __future__ import annotations

from bot.policy import load_policy_text
from bot.policy.changes import ListChange, diff_policies
from bot.policy.words import describe_changes

from .helpers import POLICIES

TEXT = (POLICIES / "late-and-announced.yaml").read_text(encoding="utf-8")
OLD = load_policy_text(TEXT, "p.yaml")


def changed(text: str):  # type: ignore[no-untyped-def]
    return diff_policies(OLD, load_policy_text(text, "p.yaml"))


def test_comments_only_is_no_change() -> None:
    c = changed(TEXT.replace("# Late and announced", "# Late, announced"))
    assert c.empty and c.old_version != c.new_version
    assert describe_changes(c) == ["no change in behaviour (comments or layout only)"]


def test_rules_added_removed_changed_and_reordered() -> None:
    text = TEXT.replace(
        "  - name: friends\n    when: {in_list: friends}\n    then: follow_back"
        "           # no need to make friends wait\n\n",
        "",
    )
    text = text.replace(
        "  - name: bots\n    when: {bot: true}\n"
        "    then: ignore                # nothing sent, still recorded\n",
        "",
    ).replace(
        "  - name: already following\n",
        "  - name: bots\n    when: {bot: true}\n    then: review\n\n  - name: already following\n",
    )
    text = text.replace(
        "  - name: everyone else\n    then:\n",
        "  - name: new rule\n    when: {bot: true}\n    then: review\n\n"
        "  - name: everyone else\n    then:\n",
    )
    text = text.replace("expect: {rule: friends, action: follow_back}", "expect: {action: later}")
    c = changed(text.replace("friends", "pals"))
    assert c.rules.added == ("new rule",)
    assert c.rules.removed == ("friends",)
    assert c.rules.changed == ("bots",)  # its decision changed
    assert c.rules.reordered  # "bots" moved below "flagged spammers"
    assert c.lists == (
        ListChange("friends", removed=("189234567890123456", "ada_l"), deleted=True),
        ListChange("pals", added=("189234567890123456", "ada_l"), created=True),
    )
    lines = describe_changes(c)
    assert "rules added: 'new rule'" in lines and "rules removed: 'friends'" in lines
    assert "rules changed: 'bots'" in lines
    assert "rules reordered (the first match still wins)" in lines
    assert "list 'pals' added (2 entries)" in lines and "list 'friends' removed" in lines


def test_list_entries_replies_mentions_and_settings() -> None:
    text = (
        TEXT.replace("[189234567890123456, ada_l]", "[ada_l, grace_h]")
        .replace('"Appreciate it, {name}."', '"Much appreciated, {name}."')
        .replace("reply_cooldown: 24h", "reply_cooldown: 12h")
        .replace("reply_after: 2m ", "reply_after: 0s ")
        .replace('digest_at: "09:00"', 'digest_at: "08:30"')
        .replace("    when: {channel: announcements}", "    when: {channel: news}")
    )
    c = changed(text)
    assert c.lists == (ListChange("friends", ("grace_h",), ("189234567890123456",)),)
    assert c.replies_changed == ("thank",) and not c.replies_added
    assert c.mentions.changed == ("announcements",) and not c.rules
    assert [(s.section, s.key) for s in c.settings] == [
        ("owner", "digest_at"),
        ("limits", "reply_cooldown"),
        ("replying", "reply_after"),
    ]
    lines = describe_changes(c)
    assert "list 'friends': +grace_h, -189234567890123456" in lines
    assert "replies changed: 'thank'" in lines
    assert "mention rules changed: 'announcements'" in lines
    assert "owner.digest_at: 09:00 -> 08:30" in lines
    assert "limits.reply_cooldown: 1d -> 12h" in lines
    assert "replying.reply_after: 2m -> 0s" in lines
