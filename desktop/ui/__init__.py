"""The desktop interface: one module per screen (like Anki's ``aqt``).

Importing it makes every number on screen follow the user's locale: :mod:`desktop.formatting`
reads its separators from ``QLocale()`` (the system locale unless ``QLocale.setDefault`` changed it).
"""

from desktop import formatting
from desktop.numbers import NumberLocale
from desktop.qt import QLocale


def qt_number_locale() -> NumberLocale:
    locale = QLocale()
    return NumberLocale(decimal=locale.decimalPoint(), group=locale.groupSeparator())


formatting.set_locale_source(qt_number_locale)
