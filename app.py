"""pmdash: the Streamlit entry point. The frame (settings, password, filters, navigation) lives
in dashboard/frame.py; the pages in pages/."""

from dashboard import frame

frame.run()
