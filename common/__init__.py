"""Domain core of the Operations Management System.

Imports neither Qt nor Flask: the same code runs on the desktop client and on the sync server.
"""
