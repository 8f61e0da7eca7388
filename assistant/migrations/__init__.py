"""Alembic migrations of the app's database (run by `assistant.database.upgrade`; no alembic.ini)."""
