from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def index(request):
    return PlainTextResponse("layout asgi-app-dir\n")

routes = [Route("/", index)]
