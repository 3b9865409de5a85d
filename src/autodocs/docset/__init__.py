"""A release's docs set: files → pages → table of contents, modelled on mkdocs' ``structure`` package.

``files.py`` finds and reads the source files inside an unpacked sdist (confined to it);
``rst.py`` and ``markdown.py`` read one file into a ``pages.Page``; ``nav.py`` orders the pages
(``mkdocs.yml`` nav, Sphinx toctrees, else a default order); ``toc.py`` is the table of contents;
``build.py`` puts them together into a ``model.DocSet`` (a value the cache and use cases pass
around without loading a parser); ``workers.py`` reads pages in memory- and time-bounded processes.
"""
