"""The ``dependsOn`` graph of every Flux Kustomization and HelmRelease, generated from the repository.

Edges point from a dependency to what waits for it (``A --> B``: B dependsOn A), the order Flux applies
them in. Kustomizations of disabled apps are drawn dashed; names a dependsOn mentions that the
repository does not define are drawn as missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mediaops.repo.inventory import Repository
from mediaops.repo.model import ACTIVE, DISABLED, Ref


@dataclass
class Node:
    """A Kustomization or HelmRelease of the dependency graph, with what it depends on."""

    ref: Ref
    kind: str  # "Kustomization" or "HelmRelease"
    app: str = ""
    state: str = ACTIVE  # active, disabled or missing
    depends_on: list[Ref] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref}"


@dataclass
class Graph:
    """The dependency graph of a repository's Kustomizations and HelmReleases, by reference."""

    nodes: dict[str, Node]

    def edges(self) -> list[tuple[Node, Node]]:
        """(dependency, dependent) pairs."""
        pairs = []
        for node in self.nodes.values():
            for dep in node.depends_on:
                pairs.append((self.nodes[f"{node.kind}:{dep}"], node))
        return sorted(pairs, key=lambda p: (p[0].key, p[1].key))

    def roots(self) -> list[Node]:
        return sorted((n for n in self.nodes.values() if not n.depends_on), key=_order)

    def dependents(self, node: Node) -> list[Node]:
        return sorted((n for n in self.nodes.values() if node.ref in n.depends_on and n.kind == node.kind),
                      key=_order)


def _order(node: Node) -> tuple[bool, str]:
    return node.kind != "Kustomization", str(node.ref)


def build(repo: Repository, apps: list[str] | None = None) -> Graph:
    """The whole graph, or only the named apps and everything they depend on."""
    nodes: dict[str, Node] = {}
    app_state = {}
    for app in repo.apps():
        for ks in app.kustomizations:
            app_state[ks.ref] = (app.name, app.state)
        for hr in app.helmreleases:
            node = Node(Ref(hr.name, hr.namespace), "HelmRelease", app.name, app.state, list(hr.depends_on))
            nodes[node.key] = node
    for ks in repo.flux_kustomizations():
        name, state = app_state.get(ks.ref, ("", ACTIVE))
        node = Node(ks.ref, "Kustomization", name, state, list(ks.depends_on))
        nodes[node.key] = node
    for node in list(nodes.values()):
        for dep in node.depends_on:
            key = f"{node.kind}:{dep}"
            if key not in nodes:
                nodes[key] = Node(dep, node.kind, state="missing")
    graph = Graph(nodes)
    if apps:
        wanted = {n.key for n in nodes.values() if n.app in apps}
        keep = set(wanted)
        frontier = list(wanted)
        while frontier:  # everything the apps depend on, transitively
            node = nodes[frontier.pop()]
            for dep in node.depends_on:
                key = f"{node.kind}:{dep}"
                if key not in keep:
                    keep.add(key)
                    frontier.append(key)
        graph = Graph({k: v for k, v in nodes.items() if k in keep})
    return graph


def _id(node: Node) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{'hr' if node.kind == 'HelmRelease' else 'ks'}_{node.ref}")


def _label(node: Node) -> str:
    prefix = "HelmRelease " if node.kind == "HelmRelease" else ""
    suffix = {DISABLED: " (disabled)", "missing": " (missing)"}.get(node.state, "")
    return f"{prefix}{node.ref}{suffix}"


def mermaid(graph: Graph) -> str:
    lines = ["flowchart LR"]
    for node in sorted(graph.nodes.values(), key=lambda n: n.key):
        lines.append(f'  {_id(node)}["{_label(node)}"]')
    for dep, node in graph.edges():
        arrow = "-.->" if DISABLED in (dep.state, node.state) else "-->"
        lines.append(f"  {_id(dep)} {arrow} {_id(node)}")
    styled = {"disabled": "stroke-dasharray: 4 4", "missing": "stroke:#d00,color:#d00"}
    for state, style in styled.items():
        ids = [_id(n) for n in sorted(graph.nodes.values(), key=lambda n: n.key) if n.state == state]
        if ids:
            lines.append(f"  classDef {state} {style}")
            lines.append(f"  class {','.join(ids)} {state}")
    return "\n".join(lines) + "\n"


def dot(graph: Graph) -> str:
    lines = ["digraph flux {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"]
    for node in sorted(graph.nodes.values(), key=lambda n: n.key):
        style = {DISABLED: ", style=dashed", "missing": ", color=red, fontcolor=red"}.get(node.state, "")
        shape = ", shape=ellipse" if node.kind == "HelmRelease" else ""
        lines.append(f'  "{node.key}" [label="{_label(node)}"{shape}{style}];')
    for dep, node in graph.edges():
        lines.append(f'  "{dep.key}" -> "{node.key}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def tree(graph: Graph) -> object:
    """A rich Tree: each root, then what depends on it; a node reached twice is shown once, then named."""
    from rich.tree import Tree

    top = Tree("Flux dependsOn", guide_style="dim")
    shown: set[str] = set()

    def add(parent: Tree, node: Node) -> None:
        style = {DISABLED: "dim", "missing": "red"}.get(node.state, "")
        label = f"[{style}]{_label(node)}[/]" if style else _label(node)
        if node.key in shown:
            parent.add(f"{label} [dim](see above)[/]")
            return
        shown.add(node.key)
        branch = parent.add(label)
        for child in graph.dependents(node):
            add(branch, child)

    for root in graph.roots():
        add(top, root)
    return top
