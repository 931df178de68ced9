"""Which line of an imported file first had an address: a repeated row is skipped,
and the person is told its line and the line it repeats, whichever chunk either
is in.

A set of the addresses themselves would hold the whole file in memory (a million
rows, ~100 MB). Each chunk's addresses are kept instead as sorted 8-byte hashes
beside their lines (12 bytes a row), searched by bisection; two different
addresses share a 64-bit hash with a chance of about 3 in 10^8 in a file of a
million rows.
"""

from array import array
from bisect import bisect_left
from hashlib import blake2b

from django.utils.translation import gettext as _

# The repeated rows listed per import (all are counted): enough for anyone to
# fix a file by hand; a file with more needs deduplicating, not a longer list.
MAX_LISTED = 10_000


def repeat_reason(email: str, first_line: int) -> str:
    return _(
        "The address %(email)s is repeated: it was first in line %(first)d. "
        "This row was skipped."
    ) % {"email": email, "first": first_line}


def address_hash(key: str) -> int:
    return int.from_bytes(blake2b(key.encode(), digest_size=8).digest(), "big")


class SeenAddresses:
    """The first line of each address in the chunks read so far."""

    def __init__(self) -> None:
        self._chunks: list[tuple[array, array]] = []

    def first_line(self, key: str) -> int | None:
        wanted = address_hash(key)
        for hashes, lines in self._chunks:
            index = bisect_left(hashes, wanted)
            if index < len(hashes) and hashes[index] == wanted:
                return lines[index]
        return None

    def add_chunk(self, first_lines: dict[str, int]) -> None:
        """A chunk's new addresses (lower-case) with the line each first had."""
        if not first_lines:
            return
        pairs = sorted((address_hash(key), line) for key, line in first_lines.items())
        self._chunks.append(
            (array("Q", (h for h, _ in pairs)), array("Q", (n for _, n in pairs)))
        )
