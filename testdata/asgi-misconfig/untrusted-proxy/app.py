"""MISCONFIGURED ON PURPOSE (devstack doctor test fixture): uvicorn runs with
production's --forwarded-allow-ips (the load balancer, 10.0.0.5; see
devstack.toml), so it ignores the local proxy's X-Forwarded-Proto and the app
sees http.

    uvicorn app:app --forwarded-allow-ips 10.0.0.5
"""
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def whoami(request):
    return JSONResponse({"scheme": request.url.scheme,
                         "client": request.client.host if request.client else None})


app = Starlette(routes=[Route("/", whoami)])
