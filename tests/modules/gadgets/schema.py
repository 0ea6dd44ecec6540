"""The gadgets module's one entity."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped

from common.schema.base import Base, EntityInfo, SyncedEntity, business


class Gadget(SyncedEntity, Base):
    __tablename__ = "gadget"
    __entity__ = EntityInfo(module="gadgets", read="gadgets.read")

    name: Mapped[str] = business(String(200))
