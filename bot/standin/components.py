"""Message components and modals as components/reference.mdx and
interactions/receiving-and-responding.mdx ("Modal") describe them; refused with 400 50035."""

from __future__ import annotations

from typing import Any

from bot.standin.httpkit import invalid, text_len

Json = dict[str, Any]

IS_COMPONENTS_V2 = 1 << 15
BUTTON = 2
LINK, PREMIUM = 5, 6  # button styles without a custom_id


def check_components(components: list[Json], flags: int) -> None:
    if not flags & IS_COMPONENTS_V2:
        if len(components) > 5:
            raise invalid("components", "Must be 5 or fewer in length.")
        for i, row in enumerate(components):
            if len(row.get("components") or []) > 5:
                raise invalid(f"components.{i}.components", "Must be 5 or fewer in length.")
    seen: set[str] = set()
    for i, component in enumerate(components):
        _check_component(component, f"components.{i}", seen)


def _check_component(component: Json, path: str, seen: set[str]) -> None:
    custom_id = component.get("custom_id")
    if component.get("type") == BUTTON:
        _check_button(component, path)
    if custom_id is not None:
        if not 1 <= len(str(custom_id)) <= 100:
            raise invalid(f"{path}.custom_id", "Must be between 1 and 100 in length.")
        # "Multiple components on the same message must not share the same custom_id"
        if str(custom_id) in seen:
            raise invalid(
                f"{path}.custom_id",
                "Component custom id cannot be duplicated",
                "COMPONENT_CUSTOM_ID_DUPLICATED",
            )
        seen.add(str(custom_id))
    if text_len(component.get("label")) > 80:
        raise invalid(f"{path}.label", "Must be 80 or fewer in length.")
    for k, child in enumerate(component.get("components") or []):
        _check_component(child, f"{path}.components.{k}", seen)
    for key in ("accessory", "component"):
        inner = component.get(key)
        if isinstance(inner, dict):
            _check_component(inner, f"{path}.{key}", seen)


def _check_button(button: Json, path: str) -> None:
    """ "Non-link and non-premium buttons must have a custom_id, and cannot have a url or a
    sku_id"; "Link buttons must have a url, and cannot have a custom_id"."""
    style = button.get("style")
    has_id = button.get("custom_id") is not None
    if style == LINK:
        if has_id or not button.get("url"):
            raise invalid(path, "A link button needs a url and no custom_id", "BUTTON_INVALID")
    elif style == PREMIUM:
        if has_id or not button.get("sku_id"):
            raise invalid(path, "A premium button needs a sku_id", "BUTTON_INVALID")
    elif not has_id or button.get("url") or button.get("sku_id"):
        raise invalid(f"{path}.custom_id", "This field is required", "BASE_TYPE_REQUIRED")


def check_modal(data: Json) -> None:
    """interactions/receiving-and-responding.mdx "Modal": custom_id 1-100 characters, title at
    most 45, between 1 and 5 components."""
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 100:
        raise invalid("data.custom_id", "Must be between 1 and 100 in length.")
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= 45:
        raise invalid("data.title", "Must be between 1 and 45 in length.")
    components = data.get("components")
    if not isinstance(components, list) or not 1 <= len(components) <= 5:
        raise invalid("data.components", "Must be between 1 and 5 in length.")
    seen: set[str] = set()
    for i, component in enumerate(components):
        _check_component(component, f"data.components.{i}", seen)
