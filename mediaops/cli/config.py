"""`config show`: every setting, its value and where it came from."""

from __future__ import annotations

import click

from mediaops.cli.root import State, cli, new_console, pass_state


@cli.group("config")
def config_group() -> None:
    """Inspect the effective configuration."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def config_show(state: State, as_json: bool) -> None:
    """Print every setting, its value and where it came from."""
    config = state.config
    if not config.get("repo"):  # found, not set: say which checkout and that it was found
        from mediaops.services import find_repo_root

        root = find_repo_root(config)
        if root is not None:
            config.values["repo"], config.sources["repo"] = str(root), "found from the working directory"
    if as_json:
        import json

        click.echo(json.dumps({k: {"value": v, "source": s} for k, v, s in config.rows()}, indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(show_edge=False, title=f"config file: {config.file or 'none'}", title_justify="left")
    for column in ("setting", "value", "from"):
        table.add_column(column)
    for key, value, source in config.rows():
        shown = ", ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
        table.add_row(Text(key), Text(shown), Text(source))  # a value's brackets (an IPv6 URL) as they are
    new_console().print(table)
