"""One schema for the whole ERP: every table of every module, in one metadata.

``ENTITIES`` maps each synced entity name (its table name) to its model, in dependency order
(a row's references come before it), which is also the order of a snapshot pull. Its entities are
those of the core (``identity``, ``system``) and of every module's ``schema`` modules
(:class:`common.modules.ModuleSpec`); the names imported below are re-exported for convenience
(``from common.schema import Product``) and for type checkers, not the registry.

``SCHEMA_VERSION`` is what the pull handshake compares: the highest ``sync_schema_version`` a
migration declares (``common/migrations/versions``). A migration that changes what syncs declares
the next one.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType
from typing import Any

from common.modules import import_all
from common.schema import (
    bills,
    books,
    costing,
    credit_notes,
    finance,
    hr,
    identity,
    inventory,
    privacy,
    projects,
    sales,
    system,
)
from common.schema.base import Base, EntityInfo, SyncedEntity, TenantRow, table_of
from common.schema.bills import SupplierBill, SupplierBillLine, SupplierPayment
from common.schema.books import AccountMapping, Ledger
from common.schema.costing import ProductCost
from common.schema.credit_notes import CreditNote, CreditNoteLine
from common.schema.finance import Account, FiscalPeriod, JournalBalance, JournalEntry, JournalLine, TaxRate
from common.schema.hr import (
    Department,
    Employee,
    EmployeeDirectory,
    LeaveRequest,
    LeaveType,
    PayComponent,
    PayrollRun,
    Payslip,
    PayslipLine,
)
from common.schema.identity import AppUser, Device, Invitation, Membership, Organization, Role
from common.schema.inventory import (
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    StockMove,
    Supplier,
    Warehouse,
)
from common.schema.privacy import (
    CommunicationPreference,
    DataSubjectRequest,
    Notification,
    PolicyAcknowledgement,
    PolicyVersion,
    RetentionRule,
    SubjectKey,
)
from common.schema.projects import Project, Task, TimesheetEntry
from common.schema.sales import Customer, Invoice, InvoiceLine, Payment, SalesOrder, SalesOrderLine
from common.schema.system import (
    AuditEvent,
    ChangeLog,
    OrgSequence,
    OutboxEntry,
    ProcessedMutation,
    RateLimitBucket,
    RefreshToken,
    SecurityLogEntry,
    SyncState,
)

_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
_DECLARED = re.compile(r"^sync_schema_version = (\d+)$", re.MULTILINE)


def declared_sync_schema_version(directory: Path = _MIGRATIONS) -> int:
    """The highest ``sync_schema_version = N`` a migration script declares."""
    found = [
        int(match.group(1))
        for script in directory.glob("*.py")
        for match in _DECLARED.finditer(script.read_text(encoding="utf-8"))
    ]
    if not found:
        raise RuntimeError(f"no migration in {directory} declares sync_schema_version")
    return max(found)


SCHEMA_VERSION = declared_sync_schema_version()

metadata = Base.metadata
# Every module's entities (a module from elsewhere declares them in its own Python modules).
SCHEMA_MODULES = tuple(import_all("schema"))


def _entities() -> dict[str, type[SyncedEntity]]:
    by_table = {
        table_of(mapper.class_).name: mapper.class_
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, SyncedEntity)
    }
    return {t.name: by_table[t.name] for t in metadata.sorted_tables if t.name in by_table}


ENTITIES: MappingProxyType[str, type[SyncedEntity]] = MappingProxyType(_entities())


# Entities that were synced tables and are read-only views now (revision 0019: a journal entry's
# lines are in its row): not in ``ENTITIES``, so neither synced nor written, but audit events and
# outbox undo images from before name them, and their readers need their columns and read rule.
FORMER_ENTITIES: MappingProxyType[str, type[Any]] = MappingProxyType({"journal_line": JournalLine})


def entity_info(name: str) -> EntityInfo:
    """The sync/read rules of the entity called ``name``; ``KeyError`` if there is none."""
    return ENTITIES[name].__entity__


__all__ = [
    "ENTITIES",
    "FORMER_ENTITIES",
    "SCHEMA_VERSION",
    "Account",
    "AccountMapping",
    "AppUser",
    "AuditEvent",
    "Base",
    "ChangeLog",
    "CommunicationPreference",
    "CreditNote",
    "CreditNoteLine",
    "Customer",
    "DataSubjectRequest",
    "Department",
    "Device",
    "Employee",
    "EmployeeDirectory",
    "EntityInfo",
    "FiscalPeriod",
    "Invitation",
    "Invoice",
    "InvoiceLine",
    "JournalBalance",
    "JournalEntry",
    "JournalLine",
    "LeaveRequest",
    "LeaveType",
    "Ledger",
    "Membership",
    "Notification",
    "OrgSequence",
    "Organization",
    "OutboxEntry",
    "PayComponent",
    "Payment",
    "PayrollRun",
    "Payslip",
    "PayslipLine",
    "PolicyAcknowledgement",
    "PolicyVersion",
    "ProcessedMutation",
    "Product",
    "ProductCost",
    "Project",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "RateLimitBucket",
    "RefreshToken",
    "RetentionRule",
    "Role",
    "SalesOrder",
    "SalesOrderLine",
    "SecurityLogEntry",
    "StockMove",
    "SubjectKey",
    "Supplier",
    "SupplierBill",
    "SupplierBillLine",
    "SupplierPayment",
    "SyncState",
    "SyncedEntity",
    "Task",
    "TaxRate",
    "TenantRow",
    "TimesheetEntry",
    "Warehouse",
    "bills",
    "books",
    "costing",
    "credit_notes",
    "entity_info",
    "finance",
    "hr",
    "identity",
    "inventory",
    "metadata",
    "privacy",
    "projects",
    "sales",
    "system",
]
