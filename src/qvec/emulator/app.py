"""The emulator's HTTP API (FastAPI): the subset of IonQ's v0.4 API listed in docs/ionq.md ("The emulator")."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any, Iterator

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException

from qvec.errors import InputError

from .config import EmulatorConfig
from .engine import JobEngine
from .execute import job_bytes
from .openapi import ROUTE_DOCS, SCHEMA_PATH, install_schema
from .requests import MAX_BODY_BYTES, TARGET_QUBITS, JobRequest, parse_job_request
from .store import API_PREFIX, TERMINAL, Job, JobStore

__all__ = ["create_app", "ApiError"]

_REASONS = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 410: "Gone",
            413: "Payload Too Large", 500: "Internal Server Error", 503: "Service Unavailable"}
_LIST_DEFAULT = 25
_LIST_LIMIT = 1000
_BUSY_RETRY_AFTER_S = 1
_MIB = 2**20


class ApiError(Exception):
    """An error answer in the API's JSON shape."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


def _error(status: int, message: str, retry_after: int | None = None) -> JSONResponse:
    reason = _REASONS.get(status, "Error")
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"statusCode": status, "error": reason, "message": message}, status_code=status,
                        headers=headers)


async def _body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed ``limit``: never read in full first."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the request body is {int(declared)} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _job_bytes(request: JobRequest) -> int:
    """The most memory the job may take: exact results may fill all 2**n states, sampled ones at most the shots."""
    entries = 2**request.qubits if request.is_exact else request.shots
    return job_bytes(request.qubits, len(request.circuits), entries)


def _json_pieces(results: list[tuple[str | None, Any]]) -> Iterator[bytes]:
    """One distribution's JSON (``[(None, d)]``) or an object of them by child id, written piece by piece."""
    if results[0][0] is None:
        yield from (piece.encode() for piece in results[0][1].json_pieces())
        return
    for position, (child_id, distribution) in enumerate(results):
        yield ("{" if position == 0 else ", ").encode() + json.dumps(child_id).encode() + b": "
        yield from (piece.encode() for piece in distribution.json_pieces())
    yield b"}"


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
        self.config, self.store, self.engine = config, store, JobEngine(config, store)
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
        """Read the body as it streams, check it in a worker thread (a 10 MB body takes a while), admit it."""
        owner = self.owner(request)
        raw = await _body(request)
        try:
            job_request = await asyncio.to_thread(parse_job_request, raw, self.config.max_qubits)
        except InputError as exc:
            raise ApiError(400, str(exc)) from None
        needed = self._admit(job_request)
        job = self.store.add(owner, job_request, reserved_bytes=needed)
        self.engine.start(job)
        return JSONResponse({"id": job.id, "status": job.status, "request": int(job.created)}, status_code=201)

    def _admit(self, job_request: JobRequest) -> int:
        """The job's memory at its largest, if the budget has room for it: 400 if it never fits, 503 if not now."""
        needed, budget = _job_bytes(job_request), self.config.memory_budget
        shape = f"{len(job_request.circuits)} circuit(s) of {job_request.qubits} qubits"
        if needed > budget:
            raise ApiError(400, f"the job ({shape}) may take {needed / _MIB:.0f} MiB; "
                                f"this emulator's memory budget is {budget / _MIB:.0f} MiB")
        self.store.evict()
        if self.store.bytes_in_use + needed > budget:
            raise ApiError(503, f"the emulator is busy: the job ({shape}) may take {needed / _MIB:.0f} MiB and "
                                f"{self.store.bytes_in_use / _MIB:.0f} of {budget / _MIB:.0f} MiB are in use; "
                                "retry later", retry_after=_BUSY_RETRY_AFTER_S)
        return needed

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

    async def probabilities(self, request: Request, job_id: str) -> StreamingResponse:
        """A completed job's distribution; a parent's, its children's keyed by child id in submission order.

        Written as it streams, from a worker thread: a wide result is never one string in memory.
        """
        self.store.evict()
        job = self.job(request, job_id)
        if job.status != "completed":
            raise ApiError(400, f"job {job_id} has no results: it is {job.status}")
        if job.evicted:
            raise ApiError(410, f"the results of job {job_id} were evicted: this emulator keeps results "
                                f"{self.config.results_ttl} s, for the {self.config.results_kept} newest finished jobs")
        results = [(child.id, child.distribution) for child in job.children] if job.is_parent else [(None, job.distribution)]
        return StreamingResponse(_json_pieces(results), media_type="application/json")

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
            ids = json.loads(await _body(request)).get("ids")
        except (ValueError, AttributeError, RecursionError):
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
    for method, path, handler in (
            ("POST", "/jobs", api.create), ("GET", "/jobs", api.listing), ("DELETE", "/jobs", api.delete_many),
            ("PUT", "/jobs/status/cancel", api.cancel_many), ("GET", "/jobs/{job_id}", api.get),
            ("DELETE", "/jobs/{job_id}", api.delete), ("PUT", "/jobs/{job_id}/status/cancel", api.cancel),
            ("GET", "/jobs/{job_id}/results/probabilities", api.probabilities),
            ("GET", "/jobs/{job_id}/results/probabilities/aggregated", api.probabilities),
            ("GET", "/backends", api.backends), ("GET", "/backends/{name}", api.backend)):
        router.add_api_route(path, handler, methods=[method], **ROUTE_DOCS[(method, path)])
    return router


def create_app(config: EmulatorConfig, store: JobStore) -> FastAPI:
    """The API app over ``store``; ``/admin/counters`` (for a valid key) only when ``config.admin`` is set.

    Its OpenAPI description is served at ``/v0.4/openapi.json``.
    """
    app = FastAPI(title="qvec IonQ emulator", version="0.4", docs_url=None, redoc_url=None, openapi_url=SCHEMA_PATH,
                  description="The subset of IonQ's v0.4 API that qvec's emulator serves.")
    api = _Api(config, store)
    app.include_router(_routes(api))
    if config.admin:
        app.add_api_route("/admin/counters", api.counters, methods=["GET"], include_in_schema=False)
    install_schema(app)
    app.add_exception_handler(ApiError, lambda request, exc: _error(exc.status, exc.message, exc.retry_after))
    app.add_exception_handler(HTTPException, lambda request, exc: _error(exc.status_code, str(exc.detail)))
    app.add_exception_handler(RequestValidationError, lambda request, exc: _error(400, str(exc)))
    app.add_exception_handler(Exception, _internal_error)
    return app
