"""``python -m autodocs`` runs the CLI."""

from autodocs.cli import main

raise SystemExit(main())
