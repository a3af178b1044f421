from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def index(request):
    return PlainTextResponse("layout src-asgi\n")

app = Starlette(routes=[Route("/", index)])
