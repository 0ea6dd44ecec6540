"""The desktop application: local encrypted store, sync client and the PySide6 interface."""
