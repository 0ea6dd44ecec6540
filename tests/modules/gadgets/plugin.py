"""``pytest -p tests.modules.gadgets.plugin``: registers the gadgets module before conftest files
(and so the registries) are imported."""

from common.modules import register
from tests.modules.gadgets import SPEC

register(SPEC)
