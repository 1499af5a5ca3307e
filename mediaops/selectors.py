"""Kubernetes label selectors (``a=b, a!=b, a in (x,y), a notin (x), a, !a``): the API server's, kustomize's
patch targets' and Flux's, all read the same way (k8s.io/apimachinery/pkg/labels/selector.go); and the label (or
annotation) by which Flux's prune leaves an object."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


class SelectorError(ValueError):
    """A selector that cannot be parsed."""


_REQUIREMENT = (  # compiled on first use: most repositories have no selector to read
    r"^\s*(!?)([A-Za-z0-9./_-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$")


def split(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return parts


Labels = dict[str, str]


def _requirement(negate: str, key: str, op: str | None, value: str | None, set_op: str | None,
                 values: str | None) -> Callable[[Labels], bool]:
    if op in ("=", "=="):
        return lambda labels: labels.get(key) == value
    if op == "!=":
        return lambda labels: labels.get(key) != value
    if set_op:
        options = {v.strip() for v in (values or "").split(",")}
        if set_op == "in":
            return lambda labels: labels.get(key) in options
        return lambda labels: key not in labels or labels[key] not in options
    if negate:
        return lambda labels: key not in labels
    return lambda labels: key in labels


def parse_selector(text: str) -> Callable[[dict[str, Any]], bool]:
    """A label selector as kubectl sends it: a=b, a!=b, a in (x,y), a notin (x), a, !a."""
    checks: list[Callable[[Labels], bool]] = []
    for part in split(text or ""):
        match = re.match(_REQUIREMENT, part)
        if not match:
            raise SelectorError(f"unable to parse requirement: {part!r}")
        checks.append(_requirement(*match.groups()))
    return lambda obj: all(check((obj.get("metadata") or {}).get("labels") or {}) for check in checks)




def target_matches(target: Any, obj: dict[str, Any]) -> bool:
    """Whether a kustomize patch ``target`` selects the object (sigs.k8s.io/kustomize api/types/selector.go:
    group, version and kind exactly; name and namespace as anchored regular expressions; label and
    annotation selectors). Flux's ``spec.patches`` use the same selector."""
    if not isinstance(target, dict):
        return True
    api = str(obj.get("apiVersion", ""))
    group, _, version = api.rpartition("/")
    meta: dict[str, Any] = obj["metadata"] if isinstance(obj.get("metadata"), dict) else {}
    for key, value in (("group", group), ("version", version), ("kind", str(obj.get("kind", "")))):
        if target.get(key) not in (None, "", value):
            return False
    for key in ("name", "namespace"):
        pattern = target.get(key)
        if pattern and not re.fullmatch(str(pattern), str(meta.get(key, ""))):
            return False
    if target.get("labelSelector") and not parse_selector(str(target["labelSelector"]))(obj):
        return False
    if target.get("annotationSelector"):
        annotated = {"metadata": {"labels": meta.get("annotations") or {}}}
        if not parse_selector(str(target["annotationSelector"]))(annotated):
            return False
    return True


PRUNE = "kustomize.toolkit.fluxcd.io/prune"


def prune_disabled(metadata: dict[str, Any]) -> bool:
    """Whether Flux's garbage collection leaves the object: ``kustomize.toolkit.fluxcd.io/prune: disabled`` as a
    label or an annotation, compared without case (fluxcd/pkg ssa/utils AnyInMetadata)."""
    return any(str((metadata.get(where) or {}).get(PRUNE, "")).lower() == "disabled"
               for where in ("labels", "annotations"))
