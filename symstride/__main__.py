"""``python -m symstride`` runs the command-line interface."""

__all__: list[str] = []

if __name__ == "__main__":
    import sys

    from .cli import main

    sys.exit(main())
