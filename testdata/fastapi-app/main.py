"""A small FastAPI app behind one reverse proxy: a JSON endpoint with a
pydantic model, a Jinja2 page, and a report of what the app sees.

uvicorn applies X-Forwarded-Proto/-For itself (--proxy-headers, on by
default) for the peers in --forwarded-allow-ips (default 127.0.0.1).

    uvicorn main:app
"""
from pathlib import Path

import fastapi
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

app = FastAPI(title="fastapi sample")
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class Item(BaseModel):
    name: str
    quantity: int = 1


def describe(request: Request) -> dict:
    forwarded = {k: v for k, v in sorted(request.headers.items())
                 if k.startswith('x-forwarded-') or k == 'forwarded'}
    return {
        'framework': 'fastapi', 'marker': 'start',
        'fastapi_version': fastapi.__version__,
        'scheme': request.url.scheme,
        'is_secure': request.url.scheme in ('https', 'wss'),
        'host': request.headers.get('host'),
        'remote_addr': request.client.host if request.client else None,
        'absolute_uri': str(request.url),
        'forwarded_headers': forwarded,
    }


@app.get("/whoami/")
async def whoami(request: Request) -> dict:
    return describe(request)


@app.post("/items/")
async def create_item(item: Item) -> Item:
    return item


@app.get("/", response_class=HTMLResponse)
async def page(request: Request):
    return templates.TemplateResponse("page.html", {"request": request, "seen": describe(request)})
