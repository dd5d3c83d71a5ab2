"""The FHIR R4 terminology service as a Starlette app, mounted under ``/fhir`` by ``kgraph serve``.

Input: HTTP requests; GET with URL parameters, or POST of a ``Parameters`` resource
(``application/fhir+json`` or ``application/json``) for the operations. Routes:
``/metadata`` (``?mode=terminology``: TerminologyCapabilities), ``/CodeSystem`` (search ``url``,
``version``, ``name``, ``_id``), ``/CodeSystem/{id}``, ``/CodeSystem[/{id}]/$lookup``,
``$validate-code``, ``$subsumes``, ``/ValueSet[/$expand|$validate-code]``, ``/ConceptMap``,
``/ConceptMap/{id}``, ``/ConceptMap[/{id}]/$translate``.

Output: FHIR JSON (``application/fhir+json``). Every query runs on the server's query workers
(``Endpoints.execute``'s pool, timeout and row limit, as ``/sparql``), and the request limits
(body size and time, read-only) are the server's middleware. Errors are OperationOutcome: 400 bad
parameter, 404 unknown resource, code system or code, 405 another method, 406 a format other
than JSON, 415 a POST body that is not Parameters JSON, 422 over the row limit or not supported,
500 a worker that failed, 503 a query stopped at the timeout. Does not write anything.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kgraph.errors import KGraphError, QueryError
from kgraph.fhir import facts, maps, operations, resources, valuesets
from kgraph.fhir.systems import BY_ID, BY_URL, SYSTEMS, FhirError
from kgraph.indexes import index_path, saved_indexes
from kgraph.worker import QueryTimeout, ResultTooLarge, WorkerError

FHIR_JSON = "application/fhir+json"
#: parameters that FHIR clients send and these operations accept without using
IGNORED = {"_format", "_pretty", "_summary", "_elements", "displayLanguage", "includeDesignations",
           "includeDefinition", "activeOnly", "excludeNested", "lenient", "abstract", "_count"}
_JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}


def fhir_json(data: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False).encode("utf-8"), status,
                    media_type=f"{FHIR_JSON}; charset=utf-8")


def _values(param: dict[str, Any]) -> Any:
    for key, val in param.items():
        if key.startswith("value"):
            if isinstance(val, bool):
                return "true" if val else "false"
            return val if isinstance(val, dict) else str(val)
    return None


class Service:
    """The handlers, over an ``Endpoints`` (its pool, settings and threads)."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self._catalog: facts.Catalog | None = None
        self._lock = threading.Lock()

    def run(self, text: str, terms: dict[str, Any]) -> facts.Rows:
        settings = self.api.settings
        answer = self.api.pool.execute(text, {k: str(v) for k, v in terms.items()}, timeout=settings.timeout,
                                       max_rows=settings.max_rows)
        return facts.json_rows(json.loads(answer.body))

    def catalog(self) -> facts.Catalog:
        with self._lock:
            if self._catalog is None:
                found = facts.catalog(self.run)
                found.build = str(self.api.info.get("id") or "")
                found.indexes = self._indexes()
                self._catalog = found
            return self._catalog

    def _indexes(self) -> Callable[[], Any] | None:
        """The claim-check indexes of the served build, read in this process on first use (the NCCI
        edit count of a hub code: thousands of rows, too slow through SPARQL); None for a writable
        server (an update would not reach them) or a build without an index file; an index file of
        another format version (a build older than this kgraph) gives None on first use, so the
        counts come from SPARQL rather than from indexes computed in the server."""
        if self.api.settings.allow_update:
            return None
        build_dir = Path(self.api.pool.database).parent
        if not index_path(build_dir).is_file():
            return None
        return functools.cache(functools.partial(saved_indexes, build_dir))

    async def call(self, fn: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> Response:
        """Run an operation in the server's threads (its queries wait on the workers there)."""
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(self.api.threads, functools.partial(fn, *args, **kwargs))
        return fhir_json(found)

    async def params(self, request: Request, allowed: set[str]) -> dict[str, Any]:
        """The request's parameters (URL, and a POSTed Parameters resource), one value each; 400 for unknown ones."""
        found: dict[str, Any] = {}
        pairs: list[tuple[str, Any]] = list(request.query_params.multi_items())
        fmt = request.query_params.get("_format")
        if fmt and fmt not in _JSON_FORMATS:
            raise FhirError(f"_format={fmt}: this server answers JSON only", 406, "not-supported")
        if request.method == "POST":
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype not in ("application/fhir+json", "application/json"):
                raise FhirError(f"POST a Parameters resource as application/fhir+json (got {ctype or 'no type'})",
                                415, "not-supported")
            try:
                body = json.loads(await request.body() or b"{}")
            except (ValueError, UnicodeDecodeError) as exc:
                raise FhirError(f"the request body is not JSON: {exc}", 400, "structure") from None
            if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
                raise FhirError("POST a Parameters resource (resourceType 'Parameters')", 400, "structure")
            pairs += [(p.get("name", ""), _values(p)) for p in body.get("parameter", []) if isinstance(p, dict)]
        for name, val in pairs:
            if name in IGNORED:
                continue
            if name not in allowed:
                raise FhirError(f"unknown parameter {name!r}; this operation takes {', '.join(sorted(allowed))}",
                                400, "not-supported")
            if name in found and found[name] != val:
                raise FhirError(f"parameter {name!r} given twice", 400, "invalid")
            found[name] = val
        concept = found.pop("codeableConcept", None)
        if concept is not None:  # the first coding of a system this server holds
            codings = concept.get("coding", []) if isinstance(concept, dict) else None
            if codings is None:
                raise FhirError("codeableConcept must be a CodeableConcept (POST it in a Parameters resource)", 400)
            known = [c for c in codings if isinstance(c, dict) and c.get("system") in BY_URL]
            if not known:
                raise FhirError("codeableConcept has no coding of a code system this server holds", 404,
                                "not-found")
            found.setdefault("coding", known[0])
        for key in ("coding", "codingA", "codingB"):
            if isinstance(found.get(key), dict):  # a Coding: its system and code
                coding = found.pop(key)
                suffix = key.removeprefix("coding")
                found.setdefault("system", coding.get("system"))
                found[f"code{suffix}"] = coding.get("code")
        return found

    # --- resources -------------------------------------------------------------------------------

    async def metadata(self, request: Request) -> Response:
        args = await self.params(request, {"mode"})
        catalog = await self._catalog_async()
        if args.get("mode") == "terminology":
            return fhir_json(resources.terminology_capabilities(catalog))
        if args.get("mode") not in (None, "full", "normative"):
            raise FhirError(f"mode={args['mode']}: use full, normative or terminology", 400)
        return fhir_json(resources.capability_statement(base_url(request), catalog))

    async def _catalog_async(self) -> facts.Catalog:
        return await asyncio.get_running_loop().run_in_executor(self.api.threads, self.catalog)

    async def code_systems(self, request: Request) -> Response:
        args = await self.params(request, {"url", "version", "name", "_id", "system"})
        catalog = await self._catalog_async()
        entries = []
        for system in SYSTEMS:
            if args.get("url") and args["url"] != system.url or args.get("name") and args["name"] != system.name:
                continue
            versions = catalog.versions(system.kinds) if system.kinds == ("icd10cm",) else [None]
            for version in versions:
                found = resources.code_system(system, catalog, version)
                if args.get("version") and found.get("version") != args["version"]:
                    continue
                if args.get("_id") and found["id"] != args["_id"]:
                    continue
                entries.append(found)
        return fhir_json(_bundle(request, entries))

    async def code_system(self, request: Request) -> Response:
        await self.params(request, set())
        rid = request.path_params["id"]
        catalog = await self._catalog_async()
        system = BY_ID.get(rid)
        version = None
        if system is None and rid.startswith("icd-10-cm-"):
            system, version = BY_ID["icd-10-cm"], rid.removeprefix("icd-10-cm-")
        if system is None:
            raise FhirError(f"CodeSystem/{rid}: not found; see /fhir/CodeSystem", 404, "not-found")
        found = resources.code_system(system, catalog, version)
        found["id"] = rid  # a read answers the resource of the id asked for (icd-10-cm: the newest year)
        return fhir_json(found)

    async def concept_maps(self, request: Request) -> Response:
        args = await self.params(request, {"url", "_id"})
        found = [maps.concept_map(m) for m in maps.MAPS if (not args.get("url") or args["url"] == m.url)
                 and (not args.get("_id") or args["_id"] == m.id)]
        return fhir_json(_bundle(request, found))

    async def concept_map(self, request: Request) -> Response:
        await self.params(request, set())
        rid = request.path_params["id"]
        found = maps.MAP_BY_ID.get(rid)
        if found is None:
            raise FhirError(f"ConceptMap/{rid}: not found; see /fhir/ConceptMap", 404, "not-found")
        return fhir_json(maps.concept_map(found))

    async def value_sets(self, request: Request) -> Response:
        args = await self.params(request, {"url", "_id"})
        found = [v for v in valuesets.value_sets() if (not args.get("url") or args["url"] == v["url"])
                 and (not args.get("_id") or args["_id"] == v["id"])]
        return fhir_json(_bundle(request, found))

    async def value_set(self, request: Request) -> Response:
        await self.params(request, set())
        rid = request.path_params["id"]
        found = next((v for v in valuesets.value_sets() if v["id"] == rid), None)
        if found is None:
            raise FhirError(f"ValueSet/{rid}: not found; see /fhir/ValueSet", 404, "not-found")
        return fhir_json(found)

    # --- operations ---------------------------------------------------------------------------------

    def _system(self, request: Request, args: dict[str, Any]) -> str | None:
        rid = request.path_params.get("id")
        if rid is None:
            return args.get("system") or args.get("url")
        if rid not in BY_ID:
            raise FhirError(f"CodeSystem/{rid}: not found", 404, "not-found")
        return BY_ID[rid].url

    async def lookup(self, request: Request) -> Response:
        args = await self.params(request, {"system", "code", "version", "date", "property", "coding"})
        props = [p for p in request.query_params.getlist("property")] or (
            [args["property"]] if args.get("property") else None)
        return await self.call(operations.lookup, self.run, await self._catalog_async(), self._system(request, args),
                               args.get("code"), version=args.get("version"), date=args.get("date"), properties=props)

    async def validate_code(self, request: Request) -> Response:
        args = await self.params(request, {"url", "system", "code", "version", "date", "display", "coding",
                                           "systemVersion", "codeableConcept"})
        return await self.call(operations.validate_code, self.run, await self._catalog_async(),
                               self._system(request, args), args.get("code"),
                               version=args.get("version") or args.get("systemVersion"), date=args.get("date"),
                               display=args.get("display"))

    async def subsumes(self, request: Request) -> Response:
        args = await self.params(request, {"system", "codeA", "codeB", "version", "codingA", "codingB"})
        return await self.call(operations.subsumes, self.run, await self._catalog_async(),
                               self._system(request, args), args.get("codeA"), args.get("codeB"),
                               version=args.get("version"))

    async def translate(self, request: Request) -> Response:
        args = await self.params(request, {"url", "conceptMap", "system", "code", "coding", "source", "target",
                                           "targetsystem", "reverse", "date", "version"})
        url = args.get("url") or request.path_params.get("id")
        reverse = str(args.get("reverse", "false")).lower()
        if reverse not in ("true", "false"):
            raise FhirError(f"reverse={reverse}: true or false", 400)
        return await self.call(maps.translate, self.run, url, args.get("system"), args.get("code"),
                               target=args.get("targetsystem"), reverse=reverse == "true", date=args.get("date"))

    async def expand(self, request: Request) -> Response:
        args = await self.params(request, {"url", "filter", "count", "offset", "date", "systemVersion"})
        return await self.call(valuesets.expand, self.run, await self._catalog_async(), args.get("url"),
                               filter=args.get("filter"), count=args.get("count"), offset=args.get("offset"),
                               version=args.get("systemVersion"), date=args.get("date"))

    async def vs_validate_code(self, request: Request) -> Response:
        args = await self.params(request, {"url", "system", "code", "coding", "date", "systemVersion",
                                           "codeableConcept"})
        return await self.call(valuesets.validate_code, self.run, await self._catalog_async(), args.get("url"),
                               args.get("system"), args.get("code"), version=args.get("systemVersion"),
                               date=args.get("date"))


def base_url(request: Request) -> str:
    """The service's own URL (``http://host:port/fhir``), whatever the mount's root path."""
    base, root = str(request.base_url).rstrip("/"), request.scope.get("root_path", "")
    return base if base.endswith(root) else base + root


def _bundle(request: Request, entries: list[dict[str, Any]]) -> dict[str, Any]:
    base = base_url(request)
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries),
            "link": [{"relation": "self", "url": str(request.url)}],
            "entry": [{"fullUrl": f"{base}/{e['resourceType']}/{e['id']}", "resource": e,
                       "search": {"mode": "match"}} for e in entries]}


def _handlers() -> dict[Any, Callable[..., Any]]:
    """Errors as OperationOutcome with their HTTP status (the query limits as ``/sparql`` answers them)."""

    def outcome(status: int, code: str) -> Callable[..., Any]:
        async def handler(request: Request, exc: Exception) -> Response:
            return fhir_json(resources.outcome(str(exc), code=code), status)
        return handler

    async def fhir_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FhirError)
        return fhir_json(resources.outcome(str(exc), code=exc.code), exc.status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            return fhir_json(resources.outcome(f"{request.method} is not allowed on {request.url.path}: "
                                               "GET, or POST of a Parameters resource", code="not-supported"),
                             405)
        return fhir_json(resources.outcome(f"{request.url.path}: not found; see /fhir/metadata", code="not-found"),
                         exc.status_code)

    return {FhirError: fhir_error, HTTPException: http_error, QueryTimeout: outcome(503, "timeout"),
            ResultTooLarge: outcome(422, "too-costly"), WorkerError: outcome(500, "exception"),
            QueryError: outcome(500, "exception"), KGraphError: outcome(400, "invalid")}


def fhir_app(api: Any) -> Starlette:
    """The ``/fhir`` app over a server's ``Endpoints`` (``kgraph.server``)."""
    s = Service(api)
    both = ["GET", "POST"]
    routes = [
        Route("/metadata", s.metadata, methods=["GET"]),
        Route("/CodeSystem/$lookup", s.lookup, methods=both),
        Route("/CodeSystem/$validate-code", s.validate_code, methods=both),
        Route("/CodeSystem/$subsumes", s.subsumes, methods=both),
        Route("/CodeSystem/{id}/$lookup", s.lookup, methods=both),
        Route("/CodeSystem/{id}/$validate-code", s.validate_code, methods=both),
        Route("/CodeSystem/{id}/$subsumes", s.subsumes, methods=both),
        Route("/CodeSystem", s.code_systems, methods=["GET"]),
        Route("/CodeSystem/{id}", s.code_system, methods=["GET"]),
        Route("/ValueSet/$expand", s.expand, methods=both),
        Route("/ValueSet/$validate-code", s.vs_validate_code, methods=both),
        Route("/ValueSet", s.value_sets, methods=["GET"]),
        Route("/ValueSet/{id}", s.value_set, methods=["GET"]),
        Route("/ConceptMap/$translate", s.translate, methods=both),
        Route("/ConceptMap/{id}/$translate", s.translate, methods=both),
        Route("/ConceptMap", s.concept_maps, methods=["GET"]),
        Route("/ConceptMap/{id}", s.concept_map, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers=_handlers())
    app.router.redirect_slashes = False
    app.state.fhir = s
    return app
