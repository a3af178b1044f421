# A view that calls the app's own URL needs a second request served while
# it waits: threads, as a production config for such an app has.
worker_class = "gthread"
threads = 4
