"""pmdash: the Streamlit entry point. The shell (settings, password, filters, navigation) lives
in dashboard/shell.py; the pages in pages/."""

from dashboard import shell

shell.run()
