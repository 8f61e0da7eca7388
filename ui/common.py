"""Shared UI helpers: the cached settings/chain/feedback store, and text formatting.

No business logic here: the UI renders `Answer` objects from `Chain.ask`.
"""

from __future__ import annotations

import re
from typing import NoReturn

import streamlit as st

from assistant.chain import Chain
from assistant.config import Settings, load_settings
from assistant.errors import AssistantError
from assistant.feedback import FeedbackStore

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
def feedback_store() -> FeedbackStore:
    return FeedbackStore(settings().feedback_db)


def md(text: str) -> str:
    """Plain text to Markdown: `$` would start LaTeX and `*`/`_` emphasis in Streamlit."""
    return re.sub(r"([$*_`#|<>~])", r"\\\1", text)


def local_link(url: str) -> str:
    """Page-viewer links relative to this server, so they work whatever host and port serve the UI."""
    base = settings().ui_base_url.rstrip("/")
    return url[len(base):] if url.startswith(base + "/") else url

