"""How deeply JSON text nests, measured without decoding it.

Python's JSON decoder and encoder recurse once per level of nesting: a peer that
sends ``[[[[...`` a hundred thousand levels deep makes them raise RecursionError
(or, below the limit, builds a value that every later ``json.dumps``, ``repr`` or
schema walk must recurse through again). Whatever reads JSON from outside (frames
from the central system, lines on the control socket) first asks
:func:`deeper_than`, which looks only at brackets outside strings, so nothing
deeper than its limit ever reaches the decoder.

The scan is two regular expressions and a running sum, all in C: a megabyte of text
takes milliseconds, and text with fewer brackets than the limit is not scanned at all.
"""

from __future__ import annotations

import re
from itertools import accumulate

# A string literal, its closing quote optional: an unterminated string swallows the rest
# instead of exposing the brackets inside it.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def deeper_than(text: str, limit: int) -> bool:
    """True when arrays and objects in ``text`` nest more than ``limit`` levels deep.

    ``[]`` is one level, ``[{}]`` two. Brackets inside strings do not count. The text
    need not be valid JSON: the decoder judges that afterwards.
    """
    if text.count("[") + text.count("{") <= limit:
        return False  # fewer openers than the limit: cannot nest deeper
    brackets = _NOT_BRACKETS.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit
