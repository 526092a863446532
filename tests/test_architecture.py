"""Dependencies run one way (docs/adr/0015-domain-kernel.md): the import-linter contracts of
pyproject.toml hold for the code, and they do break when a domain module imports HTTP.

`lint-imports` runs the same contracts in `make lint` and CI; this test keeps them in the test
suite too and proves that each contract can fail (a contract that cannot fail checks nothing).
"""

from __future__ import annotations

import tomllib
from copy import deepcopy
from pathlib import Path

import grimp
import pytest
from importlinter.configuration import configure
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract
from importlinter.contracts.protected import ProtectedContract

configure()  # import-linter's settings (its timer), as its command line sets them
ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
TYPES = {"forbidden": ForbiddenContract, "layers": LayersContract, "protected": ProtectedContract}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*CONFIG["root_packages"], include_external_packages=False)


def contract(contract_id: str):
    (options,) = [c for c in CONFIG["contracts"] if c["id"] == contract_id]
    session = {"root_packages": CONFIG["root_packages"]}
    return TYPES[options["type"]](
        name=options["name"], session_options=session, contract_options=options
    )


def kept(contract_id: str, graph: grimp.ImportGraph, *extra: tuple[str, str]) -> bool:
    graph = deepcopy(graph)
    for importer, imported in extra:
        graph.add_import(importer=importer, imported=imported)
    return contract(contract_id).check(graph, verbose=False).kept


@pytest.mark.parametrize("contract_id", [c["id"] for c in CONFIG["contracts"]])
def test_the_code_keeps_every_contract(graph, contract_id):
    assert kept(contract_id, graph), f"run `lint-imports` to see what breaks {contract_id!r}"


@pytest.mark.parametrize(
    "importer, imported",
    [
        ("catalogue.relationships", "catalogue.api.views"),  # a domain module and its HTTP layer
        ("clusters.services", "config.api.routing"),
        ("taxonomy.bulk", "taxonomy.api.representations"),
        ("records.rules", "config.api.pagination"),
    ],
)
def test_a_domain_module_importing_http_breaks_the_adapters_contract(graph, importer, imported):
    assert not kept("adapters", graph, (importer, imported))


def test_the_error_catalogue_is_the_one_config_api_module_the_domain_may_import(graph):
    assert kept("adapters", graph, ("catalogue.services", "config.api.errors"))
    assert kept("kernel", graph, ("records.rules", "config.api.errors"))


@pytest.mark.parametrize(
    "imported", ["catalogue.models", "integrations.models", "config.api.outcomes"]
)
def test_the_kernel_importing_an_app_or_an_adapter_breaks_the_kernel_contract(graph, imported):
    assert not kept("kernel", graph, ("records.bulk", imported))


def test_an_app_importing_an_app_above_it_breaks_the_apps_contract(graph):
    assert kept("apps", graph, ("clusters.services", "catalogue.services"))
    assert not kept("apps", graph, ("taxonomy.services", "catalogue.services"))
