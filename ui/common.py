"""Shared UI helpers: the cached settings/chain/database stores, and text formatting.

No business logic here: the UI renders `Answer` objects from `Chain.ask`.
"""

from __future__ import annotations

import logging
import re
from typing import NoReturn

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from assistant.asklog import AskLog
from assistant.chain import Chain
from assistant.config import Settings, load_settings
from assistant.database import Database, open_database
from assistant.errors import AssistantError
from assistant.feedback import FeedbackStore
from assistant.models import Answer

log = logging.getLogger(__name__)

BANNER = {"deny": st.error, "escalate": st.warning, "caution": st.info, "rewrite": st.info}
ICON = {"deny": ":material/block:", "escalate": ":material/supervisor_account:", "caution": ":material/warning:",
        "rewrite": ":material/edit_note:"}


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner="Loading the model and the index…")
def chain() -> Chain:
    """One chain per process: the model and index load once, then every answer is warm."""
    built = Chain(settings())
    built.warm_up()
    return built


def not_ready(exc: AssistantError) -> NoReturn:
    st.error(f"The assistant is not ready: {exc}")
    st.stop()
    raise exc  # unreachable; st.stop() ends the run


def chain_or_stop() -> Chain:
    try:
        return chain()
    except AssistantError as exc:
        not_ready(exc)


@st.cache_resource(show_spinner=False)
def database() -> Database:
    return open_database(settings())


def feedback_store() -> FeedbackStore:
    return FeedbackStore(database())


def record_ask(answer: Answer, history: list[str]) -> int | None:
    """Log a chat answer for knowledge health; a database problem must never cost the agent the answer."""
    try:
        return AskLog(database()).record(answer, history, "chat")
    except (AssistantError, SQLAlchemyError) as exc:
        log.warning("the answer was not logged: %s", exc)
        return None


def md(text: str) -> str:
    """Plain text to Markdown that shows it as typed: `$` would start LaTeX, `*`/`_` emphasis, `<` HTML,
    `[...](...)` a link and `![...](...)` an image fetched from anywhere (an agent's question, a page's
    words); "://" and "www." would be linked by themselves."""
    text = re.sub(r"([\\$*_`#|<>~\[\]!])", r"\\\1", text)
    return text.replace("://", ":\\/\\/").replace("www.", "www\\.")


def local_link(url: str) -> str:
    """Page-viewer links relative to this server, so they work whatever host and port serve the UI."""
    base = settings().ui_base_url.rstrip("/")
    return url[len(base):] if url.startswith(base + "/") else url

