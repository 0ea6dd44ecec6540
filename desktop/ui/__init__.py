"""The desktop interface: one module per screen (like Anki's ``aqt``)."""
