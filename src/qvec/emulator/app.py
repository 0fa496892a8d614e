"""The emulator's HTTP API (FastAPI): the subset of IonQ's v0.4 API listed in docs/ionq.md ("The emulator")."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from .config import EmulatorConfig
from .engine import JobEngine
from .requests import MAX_BODY_BYTES, TARGET_QUBITS, parse_job_request
from .store import API_PREFIX, TERMINAL, Job, JobStore

__all__ = ["create_app", "ApiError"]

_REASONS = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
            413: "Payload Too Large", 500: "Internal Server Error"}
_LIST_DEFAULT = 25
_LIST_LIMIT = 1000


class ApiError(Exception):
    """An error answer in the API's JSON shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _error(status: int, message: str) -> JSONResponse:
    reason = _REASONS.get(status, "Error")
    return JSONResponse({"statusCode": status, "error": reason, "message": message}, status_code=status)


def _integer(query: Any, name: str, minimum: int, maximum: int | None = None) -> int:
    """Query parameter ``name`` as an integer within bounds; a 400 naming it otherwise."""
    text = query[name]
    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
    value = int(text) if text.isascii() and text.isdigit() else None  # plain digits: no sign, space or "_"
    if value is None or value < minimum or (maximum is not None and value > maximum):
        raise ApiError(400, f"{name} must be an integer {bounds}, got {text!r}")
    return value


class _Api:
    """The route handlers, sharing the configuration, the job store and the engine."""

    def __init__(self, config: EmulatorConfig, store: JobStore) -> None:
        self.config, self.store, self.engine = config, store, JobEngine(config)
        self._owners = {key: hashlib.sha256(key.encode()).hexdigest()[:16] for key in config.api_keys}

    def owner(self, request: Request) -> str:
        """The caller's account; a 401 that never repeats the key for a missing or unknown one."""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "apikey" or key.strip() not in self._owners:
            raise ApiError(401, "invalid or missing API key")
        return self._owners[key.strip()]

    def job(self, request: Request, job_id: str) -> Job:
        job = self.store.get(self.owner(request), job_id)
        if job is None or job.status == "deleted":
            raise ApiError(404, f"no job with id {job_id}")
        return job

    async def create(self, request: Request) -> JSONResponse:
        owner = self.owner(request)
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, f"the request body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}")
        try:
            job_request = parse_job_request(json.loads(raw), self.config.max_qubits)
        except ValueError as exc:  # InputError and malformed JSON alike
            raise ApiError(400, str(exc)) from None
        job = self.store.add(owner, job_request)
        self.engine.start(job)
        return JSONResponse({"id": job.id, "status": job.status, "request": int(job.created)}, status_code=201)

    async def get(self, request: Request, job_id: str) -> dict[str, Any]:
        return self.job(request, job_id).to_json()

    async def listing(self, request: Request) -> dict[str, Any]:
        """Newest first, filtered; ``ids`` answers exactly those jobs (all of them, unless ``limit`` says fewer)."""
        query = request.query_params
        ids = {i for value in query.getlist("ids") for i in value.split(",") if i}
        jobs = list(self.store.listing(self.owner(request)))
        for name, keep in (("parent_job_id", lambda j, v: (j.parent.id if j.parent else None) == v),
                           ("status", lambda j, v: j.status == v), ("target", lambda j, v: j.request.target == v)):
            if name in query:
                jobs = [j for j in jobs if keep(j, query[name])]
        if ids:
            jobs = [j for j in jobs if j.id in ids]
        if "next" in query:
            cursor = _integer(query, "next", minimum=1, maximum=self.store.last_sequence)
            jobs = [j for j in jobs if j.sequence < cursor]
        default = min(max(len(ids), _LIST_DEFAULT), _LIST_LIMIT)
        limit = _integer(query, "limit", minimum=1, maximum=_LIST_LIMIT) if "limit" in query else default
        page = jobs[:limit]
        cursor = str(page[-1].sequence) if len(jobs) > limit else None
        return {"jobs": [j.to_json() for j in page], "next": cursor}

    async def probabilities(self, request: Request, job_id: str) -> dict[str, Any] | None:
        """A completed job's distribution; a parent's, its children's keyed by child id in submission order."""
        job = self.job(request, job_id)
        if job.status != "completed":
            raise ApiError(400, f"job {job_id} has no results: it is {job.status}")
        if job.is_parent:
            return {child.id: child.distribution for child in job.children}
        return job.distribution

    def _cancel(self, job: Job) -> dict[str, str]:
        """Cancel a job in flight; a finished one keeps its status (and a completed one its results)."""
        if job.status not in TERMINAL:
            job.set_status("canceled")
            if job.task is not None:
                job.task.cancel()
            self.store.counters.canceled.append(job.id)
        return {"id": job.id, "status": job.status}

    async def cancel(self, request: Request, job_id: str) -> dict[str, str]:
        return self._cancel(self.job(request, job_id))

    async def cancel_many(self, request: Request) -> dict[str, Any]:
        """IonQ's answer (``ids`` of the canceled jobs, ``status``) plus each job's status in ``results``."""
        results = [self._cancel(job) for job in await self._jobs(request)]
        return {"ids": [r["id"] for r in results if r["status"] == "canceled"], "status": "canceled",
                "results": results}

    def _delete(self, job: Job) -> dict[str, str]:
        self._cancel(job)
        job.set_status("deleted")
        return {"id": job.id, "status": "deleted"}

    async def delete(self, request: Request, job_id: str) -> dict[str, str]:
        return self._delete(self.job(request, job_id))

    async def delete_many(self, request: Request) -> dict[str, Any]:
        ids = [self._delete(job)["id"] for job in await self._jobs(request)]
        return {"ids": ids, "status": "deleted", "results": [{"id": i, "status": "deleted"} for i in ids]}

    async def _jobs(self, request: Request) -> list[Job]:
        """The jobs named by a ``{"ids": [...]}`` body, all checked (404 naming the unknown) before any is touched."""
        try:
            ids = json.loads(await request.body()).get("ids")
        except (ValueError, AttributeError):
            ids = None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, 'the body must be {"ids": [job ids]}')
        owner = self.owner(request)
        jobs = {i: self.store.get(owner, i) for i in ids}
        unknown = [i for i, job in jobs.items() if job is None or job.status == "deleted"]
        if unknown:
            raise ApiError(404, f"no job with id {', '.join(unknown)}")
        return [job for job in jobs.values() if job is not None]

    async def counters(self, request: Request) -> dict[str, Any]:
        """The admin counters (all accounts'), for any valid key."""
        self.owner(request)
        return self.store.counters.to_json()

    async def backends(self, request: Request) -> list[dict[str, Any]]:
        self.owner(request)
        return [_backend(name) for name in TARGET_QUBITS]

    async def backend(self, name: str) -> dict[str, Any]:
        """Answered without a key: qiskit-ionq asks for it unauthenticated."""
        if name not in TARGET_QUBITS:
            raise ApiError(404, f"no backend named {name}")
        return _backend(name)


def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A defect of the emulator, answered in the API's shape (uvicorn still logs the traceback)."""
    return _error(500, f"internal error: {type(exc).__name__}: {exc}")


def _backend(name: str) -> dict[str, Any]:
    return {"backend": name, "status": "available", "qubits": TARGET_QUBITS[name], "average_queue_time": 0,
            "last_updated": int(time.time()), "has_access": True, "degraded": False}


def _routes(api: _Api) -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    add = router.add_api_route
    add("/jobs", api.create, methods=["POST"])
    add("/jobs", api.listing, methods=["GET"])
    add("/jobs", api.delete_many, methods=["DELETE"])
    add("/jobs/status/cancel", api.cancel_many, methods=["PUT"])
    add("/jobs/{job_id}", api.get, methods=["GET"])
    add("/jobs/{job_id}", api.delete, methods=["DELETE"])
    add("/jobs/{job_id}/status/cancel", api.cancel, methods=["PUT"])
    add("/jobs/{job_id}/results/probabilities", api.probabilities, methods=["GET"])
    add("/jobs/{job_id}/results/probabilities/aggregated", api.probabilities, methods=["GET"])
    add("/backends", api.backends, methods=["GET"])
    add("/backends/{name}", api.backend, methods=["GET"])
    return router


def create_app(config: EmulatorConfig, store: JobStore) -> FastAPI:
    """The API app over ``store``; ``/admin/counters`` (for a valid key) only when ``config.admin`` is set."""
    app = FastAPI(title="qvec IonQ emulator", docs_url=None, redoc_url=None, openapi_url=None)
    api = _Api(config, store)
    app.include_router(_routes(api))
    if config.admin:
        app.add_api_route("/admin/counters", api.counters, methods=["GET"])
    app.add_exception_handler(ApiError, lambda request, exc: _error(exc.status, exc.message))
    app.add_exception_handler(HTTPException, lambda request, exc: _error(exc.status_code, str(exc.detail)))
    app.add_exception_handler(RequestValidationError, lambda request, exc: _error(400, str(exc)))
    app.add_exception_handler(Exception, _internal_error)
    return app
