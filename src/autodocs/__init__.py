"""AutoDocs: version-exact documentation for a Python project's dependencies, over MCP."""

__version__ = "0.1.0"
