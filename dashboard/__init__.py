"""The dashboard's app layer: the shell every page runs inside, and the cached readers and
widgets the pages share. pmdata never imports Streamlit; this package does."""
