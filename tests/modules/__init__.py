"""Modules that exist only in tests (see ``tests/common/test_adding_a_module.py``)."""
