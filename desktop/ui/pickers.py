"""Choosing a product, warehouse or supplier: searched in SQL, so 100k products stay quick."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from common.schema import Product, Supplier, Warehouse
from desktop.lists import live, search_terms
from desktop.qt import QComboBox, QCompleter, QLineEdit, QStringListModel, Qt, QWidget, Signal
from desktop.session import UserSession

MATCHES = 20


def find_products(session: UserSession, text: str, limit: int = MATCHES) -> list[dict[str, Any]]:
    """Live, unarchived products whose SKU, barcode or name contain every word of ``text``."""
    t = Product.__table__.c
    stmt = select(t.id, t.sku, t.name, t.unit, t.currency, t.sale_price).where(
        live(Product, session.org_id), t.archived.is_(False)
    )
    for term in search_terms(text):
        pattern = f"%{term}%"
        stmt = stmt.where(or_(t.sku.like(pattern), t.name.like(pattern), t.barcode.like(pattern)))
    with session.store.read_session() as db:
        return [dict(r) for r in db.execute(stmt.order_by(t.sku).limit(limit)).mappings()]


def product_by_code(session: UserSession, code: str) -> dict[str, Any] | None:
    """The product whose SKU or barcode is exactly ``code`` (what a scanner types)."""
    t = Product.__table__.c
    stmt = select(t.id, t.sku, t.name, t.unit, t.currency, t.sale_price).where(
        live(Product, session.org_id), or_(t.sku == code, t.barcode == code)
    )
    with session.store.read_session() as db:
        row = db.execute(stmt.limit(1)).mappings().first()
    return dict(row) if row is not None else None


def product_label(row: dict[str, Any]) -> str:
    return f"{row['sku']} — {row['name']}"


class ProductPicker(QLineEdit):
    """Type or scan a SKU, barcode or part of a name; pick from the matches."""

    changed = Signal()

    def __init__(self, session: UserSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.product: dict[str, Any] | None = None
        self._matches: dict[str, dict[str, Any]] = {}
        self.setPlaceholderText("SKU, barcode or name")
        self.setMaxLength(100)
        self.completions = QStringListModel(self)
        completer = QCompleter(self.completions, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.activated.connect(self._picked)
        self.setCompleter(completer)
        self.textEdited.connect(self._typed)
        self.editingFinished.connect(self._resolve_exact)

    def value(self) -> str | None:
        return self.product["id"] if self.product else None

    def set_value(self, product_id: str | None) -> None:
        if not product_id:
            self._set(None)
            return
        t = Product.__table__.c
        with self.session.store.read_session() as db:
            row = (
                db.execute(
                    select(t.id, t.sku, t.name, t.unit, t.currency, t.sale_price).where(
                        live(Product, self.session.org_id), t.id == product_id
                    )
                )
                .mappings()
                .first()
            )
        self._set(dict(row) if row else None)

    def _set(self, product: dict[str, Any] | None) -> None:
        changed = (product or {}).get("id") != (self.product or {}).get("id")
        self.product = product
        if product is not None:
            self.setText(product_label(product))
        if changed:
            self.changed.emit()

    def _typed(self, text: str) -> None:
        if self.product is not None and text != product_label(self.product):
            self.product = None
        matches = find_products(self.session, text) if text.strip() else []
        self._matches = {product_label(m): m for m in matches}
        by_code = product_by_code(self.session, text.strip()) if text.strip() else None
        # An exact SKU or barcode (what a scanner types) picks the product: no list to choose from.
        self.completions.setStringList([] if by_code is not None else list(self._matches))
        exact = by_code or self._matches.get(text)
        if exact is not None:
            self.product = exact
        self.changed.emit()  # also when nothing matches: the form says so as you type

    def _picked(self, text: str) -> None:
        if text in self._matches:
            self._set(self._matches[text])

    def _resolve_exact(self) -> None:
        if self.product is None and self.text().strip():
            found = product_by_code(self.session, self.text().strip())
            if found is None and self.text() in self._matches:
                found = self._matches[self.text()]
            if found is not None:
                self._set(found)


def warehouse_choices(session: UserSession) -> list[tuple[str, str]]:
    t = Warehouse.__table__.c
    with session.store.read_session() as db:
        rows = db.execute(
            select(t.id, t.code, t.name)
            .where(live(Warehouse, session.org_id), t.archived.is_(False))
            .order_by(t.code)
        ).all()
    return [(row.id, f"{row.code} — {row.name}") for row in rows]


def supplier_choices(session: UserSession) -> list[tuple[str, str]]:
    t = Supplier.__table__.c
    with session.store.read_session() as db:
        rows = db.execute(
            select(t.id, t.name, t.currency)
            .where(live(Supplier, session.org_id), t.archived.is_(False))
            .order_by(t.name)
        ).all()
    return [(row.id, f"{row.name} ({row.currency})") for row in rows]


def fill_combo(combo: QComboBox, choices: list[tuple[str, str]], *, empty: str | None = None) -> None:
    current = combo.currentData()
    combo.clear()
    if empty is not None:
        combo.addItem(empty, None)
    for value, text in choices:
        combo.addItem(text, value)
    index = combo.findData(current)
    if index >= 0:
        combo.setCurrentIndex(index)
