"""The server `make run` starts: the pages of app.py and, on the same port, the API the rest of
the home network talks to (api/), all behind one door (api/door.py). `streamlit run server.py`
finds the module-level `app` and serves it."""

import streamlit as st
from starlette.middleware import Middleware

from api.door import Door
from api.hooks import HookIntake
from api.routes import ROUTES

app = st.App("app.py", routes=ROUTES, middleware=[Middleware(Door), Middleware(HookIntake)])
