# uvicorn's --proxy-headers written as a gunicorn setting: gunicorn does not
# know the name and UvicornWorker never reads it.
worker_class = "uvicorn.workers.UvicornWorker"
proxy_headers = True
