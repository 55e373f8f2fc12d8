"""Support assistant: file a support request that gets answered, with proof."""

__version__ = "0.1.0"
