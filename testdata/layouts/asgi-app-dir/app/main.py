"""The app/main.py layout of FastAPI's larger-application guide, with a
Starlette app of the same shape.

    uvicorn app.main:app
"""
from starlette.applications import Starlette

from app.routers import pages

app = Starlette(routes=pages.routes)
