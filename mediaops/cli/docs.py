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
@click.option("--checks-out", type=click.Path(file_okay=False, path_type=Path), default=Path("docs/checks"),
              show_default=True, help="Where the checks' pages go.")
@pass_state
def docs_command(state: State, check: bool, out: Path, rehearsal_page: Path, checks_out: Path) -> int:
    """Write docs/runbooks/<name>.md from the runbook definitions, docs/checks/<name>.md from the checks, and the
    faults table of docs/rehearsal.md.

    With a repository (--repo or found from here), each runbook page embeds the Mermaid graph of its apps. The
    faults table is the part of the rehearsal page between its `<!-- faults: ... -->` and `<!-- /faults -->`
    markers.
    """
    from mediaops import checks
    from mediaops.engine import reports
    from mediaops.services import find_repo_root, repository

    config = state.config
    repo = repository(config) if find_repo_root(config) else None
    sets = [(out, reports.runbook_pages(state.registry.all(), repo), "runbook"),
            (checks_out, checks.pages(), "check")]
    stale: list[tuple[Path, str]] = []  # (page, its text) for pages that differ
    extra: list[tuple[Path, str]] = []  # (page, what it should be from) for pages of nothing
    for directory, pages, what in sets:
        stale += [(directory / name, text) for name, text in pages.items()
                  if not (directory / name).is_file() or (directory / name).read_text(encoding="utf-8") != text]
        if directory.is_dir():
            extra += [(p, what) for p in sorted(directory.glob("*.md")) if p.name not in pages]
    rehearsal_text: str | None = None  # the rehearsal page as it should be, when it is not
    if rehearsal_page.is_file():
        written = rehearsal_page.read_text(encoding="utf-8")
        try:
            rehearsal_text = reports.rehearsal_page(written)
        except ValueError as exc:
            raise UsageError(f"{rehearsal_page}: {exc}", hint="put them back, or pass --rehearsal-page") from None
        rehearsal_text = None if rehearsal_text == written else rehearsal_text
    total = sum(len(pages) for _, pages, _ in sets)
    if check:
        if stale or extra or rehearsal_text is not None:
            for path, _ in stale:
                click.echo(f"stale: {path}", err=True)
            for path, what in extra:
                click.echo(f"no {what} for: {path}", err=True)
            if rehearsal_text is not None:
                click.echo(f"stale: the faults table in {rehearsal_page}", err=True)
            click.echo("docs are out of date: run `mediaops docs` and commit the result", err=True)
            return 1
        click.echo(f"docs up to date ({total} pages)")
        return 0
    for path, text in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for path, _ in extra:
        path.unlink()
    if rehearsal_text is not None:
        rehearsal_page.write_text(rehearsal_text, encoding="utf-8")
    click.echo(f"wrote {len(stale)} of {total} pages to {out} and {checks_out}"
               + (f", removed {len(extra)}" if extra else "")
               + (f", and the faults table in {rehearsal_page}" if rehearsal_text is not None else ""))
    return 0
