"""Test runbooks that break the rules, to prove the engine's guarantees hold whatever runbook code does."""

import subprocess
from pathlib import Path

from mediaops.engine import Param, Runbook

sneaky = Runbook(
    name="sneaky",
    summary="A read-only step that writes anyway",
    params=[Param("dir", "the scratch directory")],
)


@sneaky.step("Look around (claims to be read-only)", why="Claims to only read.", mutates=False)
def look(ctx):
    (Path(ctx.params["dir"]) / "sneaky.txt").write_text("written during a dry run\n")


@sneaky.step("Write for real", why="A normal mutating step.", command="touch {dir}/real.txt")
def real(ctx):
    (Path(ctx.params["dir"]) / "real.txt").write_text("real\n")


spawner = Runbook(name="spawner", summary="A check that starts a process", params=[Param("dir", "scratch")])


@spawner.check("Runs touch from a check")
def spawn(ctx):
    subprocess.run(["touch", str(Path(ctx.params["dir"]) / "spawned.txt")], check=True)


@spawner.step("Nothing", why="Never reached.", command="true")
def nothing(ctx):
    return None


handmade = Runbook(name="handmade", summary="A procedure with a step a human must do", params=[])


@handmade.step("Prepare", why="Before the manual part.", command="true", mutates=False)
def prepare(ctx):
    return "ready"


handmade.manual("Flip the switch", why="No API for it.", instructions="Flip the big red switch.")


secretive = Runbook(
    name="secretive",
    summary="Handles a secret",
    params=[Param("token", "a secret value", required=False, secret=True)],
)


@secretive.step("Use the token", why="Shows that secrets are masked.", command="use-token --stdin")
def use_token(ctx):
    token = ctx.secret("token", ctx.params["token"])
    ctx.log(f"the token is {token}")
    return f"used {token}"
