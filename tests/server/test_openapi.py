"""docs/api/openapi.yaml describes exactly the routes the relay registers."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from server.app import create_app
from server.config import RelayConfig
from server.middlewares import is_public

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"
METHODS = {"get", "put", "post", "delete", "patch"}


def registered(tmp_path: Path) -> dict[tuple[str, str], bool]:
    app = create_app(RelayConfig(data_dir=tmp_path))
    routes = {}
    for route in app.router.routes():
        if route.method in {"HEAD", "*"}:
            continue
        path = route.resource.canonical if route.resource is not None else ""
        routes[route.method.lower(), path] = is_public(route.handler)
    return routes


def documented() -> dict[tuple[str, str], bool]:
    spec = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.1")
    operations = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                operations[method, path] = operation.get("security") == []
    return operations


def test_every_route_is_documented_and_nothing_else(tmp_path: Path) -> None:
    assert set(registered(tmp_path)) == set(documented())


def test_documented_security_matches_the_code(tmp_path: Path) -> None:
    assert registered(tmp_path) == documented()


def test_path_parameters_are_declared() -> None:
    spec = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    parameters = spec["components"]["parameters"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            declared = set()
            for entry in operation.get("parameters", []):
                parameter = (
                    parameters[entry["$ref"].rsplit("/", 1)[1]] if "$ref" in entry else entry
                )
                if parameter["in"] == "path":
                    declared.add(parameter["name"])
            assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)
