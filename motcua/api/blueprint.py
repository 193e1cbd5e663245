"""The JSON API's blueprint (`/api/v1`); the route modules add their routes to it."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
