"""Streamlit entry point: navigation only. Run with `make run` (or `streamlit run ui/app.py`)."""

from __future__ import annotations

from assistant.embeddings import offline_environment

offline_environment()  # before anything imports transformers

import streamlit as st  # noqa: E402

st.set_page_config(page_title="SOP assistant", page_icon=":material/menu_book:", layout="wide")
navigation = st.navigation([
    st.Page("chat.py", title="Chat", icon=":material/chat:", default=True),
    st.Page("page_viewer.py", title="Page viewer", icon=":material/description:", url_path="page_viewer"),
    st.Page("trainer.py", title="Trainer", icon=":material/fact_check:", url_path="trainer"),
    st.Page("health.py", title="Knowledge health", icon=":material/health_and_safety:", url_path="health"),
])
navigation.run()
