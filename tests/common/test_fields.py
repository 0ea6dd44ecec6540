"""The shared argument types refuse control characters (Unicode Cc) in every string."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from common.commands.fields import Email, Note, Text200

TEXT = TypeAdapter(Text200)
NOTE = TypeAdapter(Note)
EMAIL = TypeAdapter(Email)


@pytest.mark.parametrize("bad", ["a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\x9bb", "a\rb"])
def test_control_characters_are_refused_by_name(bad: str) -> None:
    for adapter in (TEXT, NOTE):
        with pytest.raises(ValidationError, match="control characters"):
            adapter.validate_python(bad)


def test_lines_only_where_text_has_lines() -> None:
    assert NOTE.validate_python("first line\n\tsecond") == "first line\n\tsecond"
    with pytest.raises(ValidationError, match="control characters"):
        EMAIL.validate_python("dana@acme.test\x00")
    with pytest.raises(ValidationError, match="control characters"):
        EMAIL.validate_python("da\x7fna@acme.test")
    assert EMAIL.validate_python(" dana@acme.test ") == "dana@acme.test"
    assert TEXT.validate_python("Zoë נעמי 😀") == "Zoë נעמי 😀"  # letters of any script


def test_update_changes_and_form_limits_derive_from_the_create_args() -> None:
    from common.commands.fields import changes_of, text_limit
    from common.commands.inventory import CreateProductArgs, ProductChanges, PurchaseOrderChanges

    assert set(ProductChanges.model_fields) == (set(CreateProductArgs.model_fields) - {"id"}) | {"archived"}
    assert "lines" not in PurchaseOrderChanges.model_fields
    assert ProductChanges.model_validate({}).model_dump(exclude_none=True) == {}
    with pytest.raises(ValidationError, match="at most 64 characters"):
        ProductChanges.model_validate({"sku": "x" * 65})
    assert text_limit(CreateProductArgs, "sku") == 64  # an optional field's limit too:
    assert text_limit(CreateProductArgs, "description") == 2000
    with pytest.raises(ValueError, match="no length limit"):
        text_limit(CreateProductArgs, "sale_price")
    only_name = changes_of(CreateProductArgs, "OnlyName", only=("name",))
    assert set(only_name.model_fields) == {"name"}
