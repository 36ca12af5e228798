"""The newsroom desk: the Streamlit views that app.py puts together."""
