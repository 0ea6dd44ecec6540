"""The gadgets module's one command."""

from __future__ import annotations

from common.commands.fields import Args, Id, Name
from common.commands.framework import CommandContext, command
from tests.modules.gadgets.schema import Gadget


class CreateGadgetArgs(Args):
    id: Id
    name: Name


@command("gadgets.create_gadget", args=CreateGadgetArgs, permission="gadgets.write")
def create_gadget(ctx: CommandContext, args: CreateGadgetArgs) -> None:
    """Create a gadget."""
    ctx.insert(Gadget, args.model_dump())
