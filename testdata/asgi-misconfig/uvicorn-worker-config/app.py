"""MISCONFIGURED ON PURPOSE (devstack doctor test fixture): the app runs
under gunicorn with uvicorn's worker, and gunicorn.conf.py sets uvicorn's
proxy_headers, which gunicorn ignores: UvicornWorker takes uvicorn's settings
from its class, not from gunicorn's configuration.

    gunicorn -k uvicorn.workers.UvicornWorker app:app
"""
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def whoami(request):
    return JSONResponse({"scheme": request.url.scheme,
                         "client": request.client.host if request.client else None})


app = Starlette(routes=[Route("/", whoami)])
