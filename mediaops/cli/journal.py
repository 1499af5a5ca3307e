"""`runs` and `runs show`: the journal of past runs."""

from __future__ import annotations

import click

from mediaops.cli.root import State, cli, new_console, pass_state, state_of
from mediaops.cli.runbooks import complete_run


# -- the journal --------------------------------------------------------------------------------------
@cli.group("runs", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", default=20, show_default=True, help="How many runs, newest first.")
@click.pass_context
def runs(ctx: click.Context, as_json: bool, limit: int) -> None:
    """List recorded runs; `mediaops runs show ID [--markdown|--json]` for one (ID: a unique part, or `last`)."""
    if ctx.invoked_subcommand:
        return
    from mediaops.engine import reports
    from mediaops.engine.journal import Journal

    records = Journal(state_of(ctx).config.state_dir).runs()[:limit]
    if as_json:
        import json

        click.echo(json.dumps([r.summary() for r in records], indent=2))
        return
    new_console().print(reports.runs_table(records))


@runs.command("show")
@click.argument("run_id", shell_complete=lambda c, p, i: complete_run(c, p, i))
@click.option("--markdown", is_flag=True, help="A report to paste into the ops log.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def runs_show(state: State, run_id: str, markdown: bool, as_json: bool) -> None:
    """Show one run: who, where, parameters, each step's outcome."""
    from mediaops.engine import reports
    from mediaops.engine.journal import Journal

    record = Journal(state.config.state_dir).get(run_id)
    if as_json:
        import json

        click.echo(json.dumps(record.to_dict(), indent=2))
    elif markdown:
        click.echo(reports.run_markdown(record), nl=False)
    else:
        new_console().print(reports.run_view(record))
