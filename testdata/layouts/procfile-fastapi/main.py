"""A FastAPI service deployed by its Procfile: gunicorn manages the
processes, uvicorn's worker class speaks ASGI. GET / says which server
runs it and what a forwarded request looks like from inside."""
import sys

from fastapi import FastAPI, Request

app = FastAPI()


def _server() -> str:
    # UvicornWorker lives in uvicorn.workers, which imports gunicorn: both
    # are loaded only when gunicorn runs the app with that worker class.
    if "uvicorn.workers" in sys.modules and "gunicorn.arbiter" in sys.modules:
        return "gunicorn+UvicornWorker"
    return "uvicorn"


@app.get("/")
async def index(request: Request):
    return {
        "layout": "procfile-fastapi",
        "server": _server(),
        "asgi": request.scope.get("asgi", {}).get("version"),
        "scheme": request.url.scheme,
        "client": request.client.host if request.client else None,
    }
