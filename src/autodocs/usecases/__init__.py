"""The use cases the transports call, one module each, behind :class:`autodocs.service.AutoDocsService`.

- :mod:`.docs`: one package's docs page (``get_package_docs``); :mod:`.resolution` finds the
  version and its document;
- :mod:`.context`: a package with its dependencies, and a whole project's dependencies;
- :mod:`.api_reference`: a package's API read from its code;
- :mod:`.search`: full-text search over the cached docs;
- :mod:`.scan`: what a project depends on;
- :mod:`.cache_admin`: cache statistics, listing, pruning and refreshing.

What they share (single-flight, write-behind, the per-call budget and deadline) lives in
:mod:`.machinery`, which knows no use case. Use cases never import a transport or the command.
"""
