"""Test runbooks that act on a scratch directory: edits, direct writes, failures, waits and a manual step."""

from pathlib import Path

from mediaops.engine import Changes, CheckFailed, FileChange, Param, Runbook

runbook = Runbook(
    name="write-files",
    summary="Write three files into a directory, step by step",
    params=[
        Param("dir", "the scratch directory"),
        Param("label", "text written into the files", required=False, default="hello"),
    ],
)


@runbook.check("The directory exists")
def directory_exists(ctx):
    if not Path(ctx.params["dir"]).is_dir():
        raise CheckFailed(f"{ctx.params['dir']} is not a directory")
    ctx.facts["target"] = ctx.params["dir"]
    return "found"


@runbook.step("Write a.txt", why="An edit the engine writes.", command="echo {label} > {dir}/a.txt", edit=True)
def write_a(ctx):
    path = Path(ctx.params["dir"]) / "a.txt"
    before = path.read_text() if path.exists() else None
    return Changes(Path(ctx.params["dir"]), (FileChange("a.txt", before, ctx.params["label"] + "\n"),))


@runbook.step("Write b.txt", why="A direct write by the action.", command="echo {label} > {dir}/b.txt")
def write_b(ctx):
    (Path(ctx.params["dir"]) / "b.txt").write_text(ctx.params["label"] + "\n")
    ctx.facts["b_written"] = True
    return "b.txt written"


@write_b.skip_when
def b_exists(ctx):
    return "b.txt already there" if (Path(ctx.params["dir"]) / "b.txt").exists() else None


@write_b.undoer("remove b.txt", command="rm {dir}/b.txt")
def remove_b(ctx):
    (Path(ctx.params["dir"]) / "b.txt").unlink()


@runbook.step("Write c.txt unless told to fail", why="Fails while a file named 'fail' exists.",
              command="echo {label} > {dir}/c.txt")
def write_c(ctx):
    directory = Path(ctx.params["dir"])
    if (directory / "fail").exists():
        raise RuntimeError("found the file 'fail'")
    (directory / "c.txt").write_text(ctx.params["label"] + "\n")


@write_c.undoer("remove c.txt", command="rm {dir}/c.txt")
def remove_c(ctx):
    (Path(ctx.params["dir"]) / "c.txt").unlink(missing_ok=True)


@runbook.step("Wait for the release file", why="Blocks while a file named 'hold' exists.", mutates=False)
def wait_release(ctx):
    import time

    directory = Path(ctx.params["dir"])
    with ctx.waiting("the 'hold' file to go away") as wait:
        while (directory / "hold").exists():
            wait.update("still held")
            time.sleep(0.02)
    return "released"


runbook.manual(
    "Tell the team",
    why="People like to know.",
    instructions="Post in #ops that {dir} has its files.",
    blocking=False,
)
