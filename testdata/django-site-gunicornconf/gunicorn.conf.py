# The project's own gunicorn configuration, as used in production. devstack
# must run the gateway with it unchanged: two workers, the process name,
# the graceful timeout and the hook below are the markers its tests look for.
import sys

workers = 2
proc_name = "sample-gunicornconf"
graceful_timeout = 12
raw_env = ["SAMPLE_GUNICORN_CONF=loaded"]


def post_worker_init(worker):
    print(f"sample gunicorn.conf.py: post_worker_init pid={worker.pid}",
          file=sys.stderr, flush=True)
