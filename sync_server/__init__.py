"""The sync server: Flask app factory, auth, tenancy, audit, write path, CLI."""
