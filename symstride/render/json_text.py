"""JSON as people read it: indented, short lists of numbers on one line."""

from __future__ import annotations

import json
import re

__all__ = ["json_text"]


def json_text(doc) -> str:
    """JSON indented for reading, with short lists of numbers kept on one line."""
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    return re.sub(r"\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text) + "\n"
