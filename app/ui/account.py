"""Who is using a session (with ``GLYPH_AUTH``): the signed-in line and the log-out button.

A session belongs to the user who first used it; a request from another user on the same
session (a leaked or guessed session id) is refused. Queued jobs are owned by the user when
logged in (so "My jobs" follows the user across tabs), else by the browser session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from app.ui.manager import UserError
from app.ui.safety import md_escape
from app.ui.session import Session
from app.ui.texts import t


def bind_user(session: Session, request: gr.Request | None) -> None:
    """Tie ``session`` to the logged-in user of ``request``; refuse anyone else."""
    name = getattr(request, "username", None) if request is not None else None
    if not name:
        return
    if session.user is None:
        session.user = name
    elif session.user != name:
        raise UserError(t("err_other_user", "en"), t("err_other_user", "zh"))


@dataclass
class AccountBar:
    line: gr.Markdown
    logout: gr.Button

    @classmethod
    def build(cls) -> AccountBar:
        """Hidden until a logged-in user loads the page (created inside the Blocks)."""
        with gr.Column(scale=0, min_width=140):
            line = gr.Markdown("", visible=False, elem_id="account", latex_delimiters=[])
            # relative link: works behind a reverse proxy under a sub-path too
            logout = gr.Button(
                t("logout", "en"), link="logout", size="sm", visible=False, elem_id="logout"
            )
        return cls(line, logout)

    def relabel(self, lg: str) -> dict[Any, Any]:
        return {self.logout: gr.update(value=t("logout", lg))}

    def wire(self, demo: gr.Blocks, session: gr.State) -> None:
        def on_load(s: Session, request: gr.Request):
            hidden = gr.update(visible=False)
            try:
                bind_user(s, request)
            except UserError:
                return {session: s, self.line: hidden, self.logout: hidden}
            if not s.user:
                return {session: s, self.line: hidden, self.logout: hidden}
            shown = gr.update(value=f"**{md_escape(s.user)}**", visible=True)
            return {session: s, self.line: shown, self.logout: gr.update(visible=True)}

        demo.load(on_load, [session], [session, self.line, self.logout], api_visibility="private")
