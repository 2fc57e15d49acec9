"""Tipline: an anonymous, encrypted tip line for a school district.

The app factory is `tipline.app.create_app`; importing this package loads nothing else, so
`tipline.crypto` and `tipline.types` stay free of Flask and SQLAlchemy.
"""
