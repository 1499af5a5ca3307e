"""`docs`: the runbook pages and the rehearsal's faults table, written or checked."""

from __future__ import annotations

from pathlib import Path

import click

from mediaops.cli.root import State, cli, pass_state
from mediaops.errors import UsageError


# -- documentation -------------------------------------------------------------------------------------
@cli.command("docs")
@click.option("--check", is_flag=True, help="Exit 1 when the pages differ from the runbooks (or the faults table "
                                            "from the rehearsal's faults).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("docs/runbooks"),
              show_default=True, help="Where the pages go.")
@click.option("--rehearsal-page", type=click.Path(dir_okay=False, path_type=Path), default=Path("docs/rehearsal.md"),
              show_default=True, help="The page whose faults table is written too (skipped when it does not exist).")
@pass_state
def docs_command(state: State, check: bool, out: Path, rehearsal_page: Path) -> int:
    """Write docs/runbooks/<name>.md from the runbook definitions, and the faults table of docs/rehearsal.md.

    With a repository (--repo or found from here), each page embeds the Mermaid graph of its apps. The faults
    table is the part of the rehearsal page between its `<!-- faults: ... -->` and `<!-- /faults -->` markers.
    """
    from mediaops.engine import reports
    from mediaops.services import find_repo_root, repository

    config = state.config
    repo = repository(config) if find_repo_root(config) else None
    pages = reports.runbook_pages(state.registry.all(), repo)
    stale = [name for name, text in pages.items()
             if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text]
    extra = sorted(p.name for p in out.glob("*.md") if p.name not in pages) if out.is_dir() else []
    rehearsal_text: str | None = None  # the rehearsal page as it should be, when it is not
    if rehearsal_page.is_file():
        written = rehearsal_page.read_text(encoding="utf-8")
        try:
            rehearsal_text = reports.rehearsal_page(written)
        except ValueError as exc:
            raise UsageError(f"{rehearsal_page}: {exc}", hint="put them back, or pass --rehearsal-page") from None
        rehearsal_text = None if rehearsal_text == written else rehearsal_text
    if check:
        if stale or extra or rehearsal_text is not None:
            for name in stale:
                click.echo(f"stale: {out / name}", err=True)
            for name in extra:
                click.echo(f"no runbook for: {out / name}", err=True)
            if rehearsal_text is not None:
                click.echo(f"stale: the faults table in {rehearsal_page}", err=True)
            click.echo("docs are out of date: run `mediaops docs` and commit the result", err=True)
            return 1
        click.echo(f"docs up to date ({len(pages)} pages)")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (out / name).write_text(pages[name], encoding="utf-8")
    for name in extra:
        (out / name).unlink()
    if rehearsal_text is not None:
        rehearsal_page.write_text(rehearsal_text, encoding="utf-8")
    click.echo(f"wrote {len(stale)} of {len(pages)} pages to {out}" + (f", removed {len(extra)}" if extra else "")
               + (f", and the faults table in {rehearsal_page}" if rehearsal_text is not None else ""))
    return 0
