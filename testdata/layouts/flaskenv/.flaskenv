# Read by the flask command; devstack takes FLASK_APP from it too.
FLASK_APP="hello.web:make_app('local')"
FLASK_RUN_PORT=5050
