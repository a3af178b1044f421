"""A Starlette app behind one reverse proxy, reporting what it sees.

uvicorn applies X-Forwarded-Proto/-For itself (--proxy-headers, on by
default) for the peers in --forwarded-allow-ips (default 127.0.0.1).

    uvicorn app:app
"""
import starlette
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


def describe(request):
    forwarded = {k: v for k, v in sorted(request.headers.items())
                 if k.startswith('x-forwarded-') or k == 'forwarded'}
    return {
        'framework': 'starlette',
        'starlette_version': starlette.__version__,
        'scheme': request.url.scheme,
        'is_secure': request.url.scheme in ('https', 'wss'),
        'host': request.headers.get('host'),
        'remote_addr': request.client.host if request.client else None,
        'absolute_uri': str(request.url),
        'forwarded_headers': forwarded,
    }


async def whoami(request):
    return JSONResponse(describe(request))


app = Starlette(routes=[Route('/', whoami), Route('/whoami/', whoami)])
