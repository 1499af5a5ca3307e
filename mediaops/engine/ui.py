"""Readers of the event stream for machines (JSON lines) and the prompts; the terminal's view is engine/richui.py
(a run that prints JSON imports no part of rich)."""

from __future__ import annotations

import json
import sys
from typing import Any


class JsonUI:
    """One JSON object per line on stdout: no colours, no prompts."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout

    def handle(self, event: dict[str, Any]) -> None:
        self.stream.write(json.dumps(event) + "\n")
        self.stream.flush()


class Prompter:
    """Questions to the operator at a terminal; imported only for interactive runs.

    A choice is one keystroke (its letter; Enter takes the highlighted one, arrows move), letters distinct
    within a prompt and the same across prompts: r run, s skip, d details, a abort, c continue without
    asking; y done (a manual step), t retry."""

    def _select(self, message: str, choices: list[tuple[str, str, str]]) -> str:
        from prompt_toolkit.application import Application
        from prompt_toolkit.formatted_text import FormattedText
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.layout import Layout, Window
        from prompt_toolkit.layout.controls import FormattedTextControl

        selected = [0]
        keys = KeyBindings()

        def choose(value: str) -> Any:
            return lambda event: event.app.exit(result=value)

        for _, value, key in choices:
            keys.add(key)(choose(value))
        keys.add("up")(lambda event: selected.__setitem__(0, (selected[0] - 1) % len(choices)))
        keys.add("down")(lambda event: selected.__setitem__(0, (selected[0] + 1) % len(choices)))
        keys.add("enter")(lambda event: event.app.exit(result=choices[selected[0]][1]))
        keys.add("c-c")(lambda event: event.app.exit(exception=KeyboardInterrupt()))

        def text() -> FormattedText:
            parts = [("bold", f"? {message} "), ("", "(press a letter)\n")]
            for number, (title, _, key) in enumerate(choices):
                pointer = " » " if number == selected[0] else "   "
                parts.append(("reverse" if number == selected[0] else "", f"{pointer}{key}) {title}"))
                parts.append(("", "\n"))
            return FormattedText(parts)

        app: Application[str] = Application(layout=Layout(Window(FormattedTextControl(text, show_cursor=False),
                                                                 always_hide_cursor=True)),
                                            key_bindings=keys, full_screen=False, erase_when_done=True)
        answer = _run(app)
        title = next(t for t, v, _ in choices if v == answer)
        print(f"  → {title}", flush=True)
        return str(answer)

    def step(self) -> str:
        return self._select(
            "Run this step?",
            [("run", "run", "r"), ("skip", "skip", "s"), ("show details", "details", "d"),
             ("continue without asking", "continue", "c"), ("abort", "abort", "a")],
        )

    def failure(self) -> str:
        return self._select(
            "The step failed. What now?", [("retry", "retry", "t"), ("skip", "skip", "s"), ("abort", "abort", "a")]
        )

    def manual(self) -> str:
        return self._select(
            "Done by hand?", [("yes, done", "done", "y"), ("skip", "skip", "s"), ("abort", "abort", "a")]
        )

    def password(self, message: str) -> str:
        """A secret, echoed not even as one `*` per character (that would show its length)."""
        import getpass

        return getpass.getpass(f"? {message} (not shown) ")

    def confirm(self, message: str, default: bool = True) -> bool:
        import questionary  # imported by the first yes/no question: most runs ask none

        return bool(_run(questionary.confirm(message, default=default).application))


def _run(app: Any) -> Any:
    """Run a prompt; SIGTERM ends it as Ctrl-C does, through the application's own exit.

    The run's SIGTERM handler raises KeyboardInterrupt wherever the main thread is. Raised inside the prompt's
    asyncio loop, the loop is torn down by cancelling the prompt's tasks, and the prompt's cleanup awaits (its
    redraw, the terminal's cursor-position replies) may then never finish: the process would hang instead of
    ending. So while the prompt runs, the loop itself handles SIGTERM, and the run's handler is put back after
    (closing the loop resets a signal it handled to the default)."""
    import asyncio
    import signal

    previous = signal.getsignal(signal.SIGTERM)

    def interrupt() -> None:
        if app.future is not None and not app.future.done():
            app.exit(exception=KeyboardInterrupt())

    def pre_run() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, interrupt)

    try:
        return app.run(pre_run=pre_run)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
