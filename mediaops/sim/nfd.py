"""node-feature-discovery's master, for the labels a repository's NodeFeatureRules give nodes.

A rule's ``labels`` go on every node whose features match its ``matchFeatures`` (a USB radio, an Intel GPU):
the owner's cluster has that hardware, the rehearsal has none to match, so it gives them to its amd64 node, as
if that node had it. That is what an app's ``nodeSelector`` on such a label (kashalls/home-cluster's acars:
``rtlamr.feature.node.kubernetes.io/rtlamr``) needs to be scheduled, as on the owner's cluster. As
kubernetes-sigs/node-feature-discovery pkg/nfd-master/nfd-master.go: a label name without a prefix gets
``feature.node.kubernetes.io/`` (addNs), and none may be in kubernetes.io or a subdomain of it (denied).
A rule deleted takes its labels off again. Taints, extended resources and label templates are not modelled.
"""

from __future__ import annotations

from typing import Any

from mediaops.sim.manager import Controller, Key
from mediaops.sim.store import WatchEvent

RULE = "nfd.k8s-sigs.io/NodeFeatureRule"
PREFIX = "feature.node.kubernetes.io/"
ANNOTATION = "nfd.node.kubernetes.io/feature-labels"  # what nfd-master annotates: the labels it manages


def _label(name: str) -> str | None:
    """The label nfd-master sets for a rule's label ``name``, or None when its namespace is denied (kubernetes.io
    and its subdomains, but for feature.node and profile.node and their subdomains)."""
    full = name if "/" in name else PREFIX + name
    namespace = full.split("/", 1)[0]
    allowed = any(namespace == ns or namespace.endswith("." + ns)
                  for ns in ("feature.node.kubernetes.io", "profile.node.kubernetes.io"))
    denied = namespace == "kubernetes.io" or namespace.endswith(".kubernetes.io")
    return full if allowed or not denied else None


class NodeFeatures(Controller):
    name = "node-feature-discovery"
    watches = (RULE,)

    def __init__(self, sim: Any, node: str) -> None:
        super().__init__(sim)
        self.node = node

    def keys_for(self, event: WatchEvent) -> list[Key]:
        return [("", self.node)]

    def reconcile(self, namespace: str, name: str) -> float | None:
        labels: dict[str, str] = {}
        for rule_set in self.store.all_of(self.res(RULE)):
            for rule in (rule_set.get("spec") or {}).get("rules") or []:
                for key, value in ((rule or {}).get("labels") or {}).items() if isinstance(rule, dict) else ():
                    full = _label(str(key))
                    if full is not None:
                        labels[full] = str(value)

        # nfd-master's annotation names the labels it manages, without its default prefix, and goes with the last
        managed = ",".join(sorted(k.removeprefix(PREFIX) for k in labels))

        def change(node: dict[str, Any]) -> None:
            meta = node["metadata"]
            annotations = meta.setdefault("annotations", {})
            current = meta.setdefault("labels", {})
            for old in filter(None, str(annotations.pop(ANNOTATION, "")).split(",")):
                current.pop(old if "/" in old else PREFIX + old, None)
            current.update(labels)
            if managed:
                annotations[ANNOTATION] = managed

        node = self.store.peek(self.res("Node"), "", name)
        known = str(((node or {}).get("metadata") or {}).get("annotations", {}).get(ANNOTATION, ""))
        if node is not None and (known != managed or
                                 any(node["metadata"].get("labels", {}).get(k) != v for k, v in labels.items())):
            self.store.update(self.res("Node"), "", name, change)
        return None
