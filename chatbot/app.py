"""Streamlit app (placeholder until the chat UI lands): shows the metrics table."""

from __future__ import annotations

import streamlit as st

from chatbot.engine import load_metrics
from chatbot.errors import ChatbotError
from chatbot.settings import Settings

st.set_page_config(page_title="Snapshot Q&A", page_icon="📊", layout="wide")
st.title("Snapshot Q&A — Midlands DDHI Cluster Snapshot 2023")
try:
    df = load_metrics(Settings.from_env())
    st.dataframe(df[["section", "label", "display", "unit", "period", "source", "quote"]])
except ChatbotError as exc:
    st.error(str(exc))
