"""The original Flask application, reproduced for the benchmark and for compatibility probes.

Flask 0.12.2 + Flask-HTTPAuth 3.2.3 (see scripts/bench/requirements.txt). Run with
`API_TOKEN=... flask run` / `python flask_app.py PORT` or `gunicorn flask_app:app`.
"""
import os
import sys

from flask import Flask
from flask_httpauth import HTTPTokenAuth

app = Flask(__name__)
auth = HTTPTokenAuth("Token")


@auth.verify_token
def verify_token(token):
    return token == os.environ.get("API_TOKEN")


@auth.error_handler
def unauthorized():
    return "Unauthorized Access"


@app.route("/")
@auth.login_required
def index():
    return "devops test server flying!!"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
