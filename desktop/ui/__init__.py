"""The desktop interface: one module per screen (like Anki's ``aqt``).

Importing it makes every number on screen follow the user's locale: :mod:`desktop.formatting`
reads its separators and date formats from ``QLocale()`` (the system locale unless ``QLocale.setDefault`` changed it).
"""

from desktop import formatting
from desktop.numbers import NumberLocale
from desktop.qt import QLocale


def qt_number_locale() -> NumberLocale:
    locale = QLocale()
    return NumberLocale(decimal=locale.decimalPoint(), group=locale.groupSeparator())


def short_date_format() -> str:
    """The user's short date format as a Qt pattern, never with a two-digit year."""
    if QLocale().language() == QLocale.Language.C:
        return formatting.ISO_FORMATS[0]
    shown = QLocale().dateFormat(QLocale.FormatType.ShortFormat)
    return shown if "yyyy" in shown else shown.replace("yy", "yyyy")


def qt_date_formats() -> tuple[str, str]:
    locale = QLocale()
    if locale.language() == QLocale.Language.C:
        return formatting.ISO_FORMATS  # no locale chosen: ISO dates, 24-hour times
    return short_date_format(), locale.timeFormat(QLocale.FormatType.ShortFormat)


formatting.set_locale_source(qt_number_locale)
formatting.set_date_formats_source(qt_date_formats)
