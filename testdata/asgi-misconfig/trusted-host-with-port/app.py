"""The Starlette sample with a host check that can never pass.

TrustedHostMiddleware compares the Host header without its port with each
allowed entry, so "localhost:8080" matches nothing and every request gets
400 "Invalid host header".

    uvicorn app:app
"""
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request):
    return JSONResponse({'framework': 'starlette', 'host': request.headers.get('host')})


app = Starlette(
    routes=[Route('/', hello)],
    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=['localhost:8080'])],
)
