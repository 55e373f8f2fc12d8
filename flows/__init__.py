"""The provider flows that ship with the assistant, with their samples, templates and replicas.

A package only so that they are installed with it (package data): nothing is
imported from here. The assistant reads this folder with importlib.resources
(assistant.language.catalog), after the person's own flows and installed flow packs.
"""
