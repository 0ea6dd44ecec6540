"""``/api/v1/openapi.json``, built from the endpoint registry and its pydantic models.

The models that validate requests are the ones described here, so the document cannot drift.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from common.schema import SCHEMA_VERSION
from sync_server.api import Endpoint
from sync_server.api_models import ErrorResponse

_REF = "#/components/schemas/{model}"
_UUID = {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "org_id": _UUID,
    "user_id": _UUID,
    "invitation_id": _UUID,
    "session_id": _UUID,
    "payslip_id": _UUID,
    "name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-z][a-z0-9_]*$"},
}
_STATUS_TEXT = {
    200: "OK",
    204: "No content",
    400: "Bad input; the message names the field",
    401: "Not signed in, or the token is not valid",
    403: "Signed in, but the permission is missing",
    404: "Not found (also for other organizations' resources)",
    409: "Conflict: upgrade or resync required, or a rule of the data",
    413: "Request too large",
    415: "The body is not JSON (Content-Type: application/json)",
    429: "Too many requests or attempts; see Retry-After",
    503: "Store unavailable",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _operation(spec: Endpoint, query_schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": spec.name.replace(".", "_"),
        "summary": spec.summary,
        "tags": [spec.tag],
    }
    params = [
        {"name": name, "in": "path", "required": True, "schema": _PATH_SCHEMAS.get(name, {"type": "string"})}
        for name in spec.path_params
    ]
    if spec.query is not None:
        schema = query_schemas[spec.query.__name__]
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    for header in spec.headers:
        params.append(
            {
                "name": header.name,
                "in": "header",
                "required": False,
                "description": header.description,
                "schema": {"type": "string", "enum": list(header.values)},
            }
        )
    if params:
        op["parameters"] = params
    if spec.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(spec.body)}}}
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": _STATUS_TEXT.get(spec.status, "OK")}
    if spec.response is not None and spec.status != 204:
        schema = _ref(spec.response)
        if spec.response_alternatives:  # e.g. the pull's optional format: one of them, as asked
            schema = {"oneOf": [schema, *(_ref(m) for m in spec.response_alternatives)]}
        ok["content"] = {"application/json": {"schema": schema}}
    elif spec.media_type is not None:
        ok["content"] = {spec.media_type: {"schema": {"type": "string", "format": "binary"}}}
    responses[str(spec.status)] = ok
    errors = set(spec.errors)
    if spec.auth != "none":
        errors.update((401, 429))  # 429: the per-user request limit
        op["security"] = [{"bearerAuth": []}]
    if spec.body is not None or spec.query is not None:
        errors.add(400)
    if spec.body is not None:
        errors.add(415)
    for status in sorted(errors):
        responses[str(status)] = {
            "description": _STATUS_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": _ref(ErrorResponse)}},
        }
    op["responses"] = responses
    return op


def build_spec(endpoints: list[Endpoint]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``endpoints``."""
    models: dict[str, type[BaseModel]] = {"ErrorResponse": ErrorResponse}
    for spec in endpoints:
        for model in (spec.body, spec.query, spec.response, *spec.response_alternatives):
            if model is not None:
                models[model.__name__] = model
    _, top = models_json_schema([(m, "validation") for m in models.values()], ref_template=_REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for spec in endpoints:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Operations Management System sync server",
            "version": f"1.{SCHEMA_VERSION}",
            "description": 'Errors are {"error": {"code", "message", "details"}} (DESIGN §5).',
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
