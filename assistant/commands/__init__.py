"""One module per command (or command group), loaded only when needed.

Modules here import click and the standard library at the top; anything
heavier (pydantic models, Playwright) is imported inside the command body.
"""
