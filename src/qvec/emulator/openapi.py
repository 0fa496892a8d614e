"""The emulator's OpenAPI description, served at ``/v0.4/openapi.json`` as IonQ publishes one for its API.

The routes take the raw request (bodies are read as they stream and checked off the event loop), so
what FastAPI cannot infer is declared here: the job body (from ``schema.JobBody``), the ``{"ids"}``
bodies, the listing's query parameters, the error answers and the ``Authorization`` header.
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .schema import job_body_schema

__all__ = ["ROUTE_DOCS", "install_schema", "SCHEMA_PATH"]

SCHEMA_PATH = "/v0.4/openapi.json"
_REF = "#/components/schemas/{model}"
_ERROR = {"type": "object", "required": ["statusCode", "error", "message"],
          "properties": {"statusCode": {"type": "integer"}, "error": {"type": "string"}, "message": {"type": "string"}}}
_IDS = {"type": "object", "required": ["ids"],
        "properties": {"ids": {"type": "array", "items": {"type": "string"}, "description": "job ids"}}}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    reasons = {400: "bad input, named in the message", 401: "missing or unknown API key", 404: "no such job",
               410: "the results were evicted", 413: "the body is over 10 MB",
               503: "busy: the job does not fit the memory budget now (Retry-After)"}
    return {status: {"description": reasons[status], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            for status in statuses}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_LISTING = [
    _query("ids", {"type": "string"}, "comma-separated job ids: exactly those jobs"),
    _query("parent_job_id", {"type": "string"}, "the children of this multi-circuit job"),
    _query("status", {"type": "string"}, "jobs with this status"),
    _query("target", {"type": "string"}, "jobs on this target"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "jobs per page (25 by default)"),
    _query("next", {"type": "string"}, "the cursor of the next page, from the previous answer"),
]

# Per (method, path under /v0.4): what ``add_api_route`` is given besides the handler.
ROUTE_DOCS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/jobs"): {"summary": "Create a job", "status_code": 201, "responses": _errors(400, 401, 413, 503),
                        "openapi_extra": _body({"$ref": "#/components/schemas/JobBody"})},
    ("GET", "/jobs"): {"summary": "List jobs, newest first", "responses": _errors(400, 401),
                       "openapi_extra": {"parameters": _LISTING}},
    ("DELETE", "/jobs"): {"summary": "Delete jobs", "responses": _errors(400, 401, 404, 413),
                          "openapi_extra": _body(_IDS)},
    ("PUT", "/jobs/status/cancel"): {"summary": "Cancel jobs", "responses": _errors(400, 401, 404, 413),
                                     "openapi_extra": _body(_IDS)},
    ("GET", "/jobs/{job_id}"): {"summary": "A job", "responses": _errors(401, 404)},
    ("DELETE", "/jobs/{job_id}"): {"summary": "Delete a job", "responses": _errors(401, 404)},
    ("PUT", "/jobs/{job_id}/status/cancel"): {"summary": "Cancel a job", "responses": _errors(401, 404)},
    ("GET", "/jobs/{job_id}/results/probabilities"): {"summary": "A completed job's probabilities",
                                                      "responses": _errors(400, 401, 404, 410)},
    ("GET", "/jobs/{job_id}/results/probabilities/aggregated"): {
        "summary": "A multi-circuit job's probabilities by child id, in submission order",
        "responses": _errors(400, 401, 404, 410)},
    ("GET", "/backends"): {"summary": "The targets", "responses": _errors(401)},
    ("GET", "/backends/{name}"): {"summary": "A target (no key needed)", "responses": _errors(404),
                                  "openapi_extra": {"security": []}},
}


def install_schema(app: FastAPI) -> None:
    """Make ``app.openapi()`` the complete description: components for the job body and errors, the key header."""
    app.openapi = _schema_builder(app)  # type: ignore[method-assign]


def _schema_builder(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            job_body = job_body_schema(_REF)
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(job_body.pop("$defs", {}), JobBody=job_body, Error=_ERROR)
            schema["components"]["securitySchemes"] = {
                "apiKey": {"type": "apiKey", "in": "header", "name": "Authorization",
                           "description": "apiKey <KEY>"}}
            schema["security"] = [{"apiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema
    return openapi
