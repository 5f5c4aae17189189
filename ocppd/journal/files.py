"""The journal's files judged by hand, before SQLite opens them; a moved-aside set rebuilt.

SQLite trusts its files. Three kinds of damage it does not report, it repairs by
forgetting (issue 18):

- ``journal.db`` missing, empty or truncated beside a non-empty ``-wal``: SQLite takes
  a zero-length database for a new one and deletes the WAL, with every commit in it;
- a ``-wal`` whose header is damaged or does not match the database (page size): SQLite
  ignores the whole WAL;
- garbage in the middle of a ``-wal``: SQLite stops reading at the first frame whose
  checksum fails, and every commit after it is gone, silently.

:func:`judge` finds these (and a main header that is not SQLite's) by reading the
bytes, never writing. The WAL format (https://sqlite.org/fileformat2.html#walformat):
a 32-byte header (magic, version, page size, checkpoint sequence, two salts, a
checksum of the first 24 bytes), then frames of a 24-byte header (page number, the
database size in pages for the last frame of a commit, else 0, the two salts, a
cumulative checksum) and one page. A frame counts when its salts are the header's and
its checksum, chained from the previous frame's, holds. A torn tail after a crash
(frames of an older generation, a partial frame) is normal: those commits were never
acknowledged. A frame with the header's salts that verifies *after* one that does not
is not: a commit SQLite would drop.

:func:`rebuild_image` makes a plain database image (no WAL) from a moved-aside set:
the main file's pages, then every committed transaction of the WAL whose frames hold,
even beyond damage, in order. Salvage reads rows from that image.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"
WAL_MAGIC_LE = 0x377F0682  # checksums over little-endian words
WAL_MAGIC_BE = 0x377F0683  # checksums over big-endian words
WAL_VERSION = 3007000
WAL_HEADER = 32
FRAME_HEADER = 24


@dataclass(slots=True)
class Frame:
    index: int  # 0-based position in the WAL
    page: int
    commit_size: int  # pages in the database after this commit; 0: not the last frame of one
    offset: int  # of the page data in the WAL
    chained: bool  # verifies in the unbroken chain from the header (what SQLite reads)


@dataclass(slots=True)
class WalScan:
    """What a WAL holds, as SQLite would read it and as it really is."""

    size: int
    page_size: int | None = None
    problem: str | None = None  # the header is unusable (then no frames)
    frames: list[Frame] = field(default_factory=list)  # frames that verify (chained or not)
    broken_at: int | None = None  # first frame where SQLite's chain breaks
    total: int = 0  # whole frames in the file
    salts: tuple[int, int] = (0, 0)

    @property
    def commits_lost(self) -> int:
        """Commits that verify but come after the break: SQLite would drop them."""
        return sum(1 for f in self.frames if not f.chained and f.commit_size)

    @property
    def commits(self) -> int:
        return sum(1 for f in self.frames if f.commit_size)


def _checksum(data: bytes, s0: int, s1: int, big: bool) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big else '<'}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def page_size_of(header: bytes) -> int | None:
    """The page size in a database header (None when the header is not SQLite's)."""
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return None
    size = struct.unpack(">H", header[16:18])[0]
    size = 65536 if size == 1 else size
    if size < 512 or size & (size - 1):
        return None
    return int(size)


def scan_wal(path: Path) -> WalScan:
    """Read a WAL file frame by frame; never writes."""
    data = path.read_bytes()
    scan = WalScan(size=len(data))
    if len(data) < WAL_HEADER:
        if any(data):
            scan.problem = f"the WAL is {len(data)} bytes, shorter than its header"
        return scan
    magic, version, page_size, _seq, salt1, salt2, c0, c1 = struct.unpack(">8I", data[:WAL_HEADER])
    if magic not in (WAL_MAGIC_LE, WAL_MAGIC_BE) or version != WAL_VERSION:
        scan.problem = f"the WAL header is not SQLite's (magic {magic:#010x})"
        return scan
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        scan.problem = f"the WAL header has an impossible page size ({page_size})"
        return scan
    big = magic == WAL_MAGIC_BE
    if _checksum(data[:24], 0, 0, big) != (c0, c1):
        scan.problem = "the WAL header fails its checksum"
        return scan
    scan.page_size = page_size
    scan.salts = (salt1, salt2)
    frame_size = FRAME_HEADER + page_size
    scan.total = (len(data) - WAL_HEADER) // frame_size
    prev = (c0, c1)  # the checksum a frame continues from: its predecessor's, as stored
    chain_ok = True
    for index in range(scan.total):
        at = WAL_HEADER + index * frame_size
        head = data[at : at + FRAME_HEADER]
        page, commit, f_salt1, f_salt2, f0, f1 = struct.unpack(">6I", head)
        salts_match = (f_salt1, f_salt2) == (salt1, salt2)
        valid = (
            salts_match
            and page > 0
            and _checksum(head[:8] + data[at + FRAME_HEADER : at + frame_size], *prev, big)
            == (f0, f1)
        )
        if not valid and chain_ok:
            chain_ok = False
            scan.broken_at = index
        if valid:
            scan.frames.append(Frame(index, page, commit, at + FRAME_HEADER, chain_ok))
        prev = (f0, f1)
    return scan


def indexed_frames(shm: Path, salts: tuple[int, int]) -> int | None:
    """How many WAL frames the wal-index (``-shm``) says are committed, or None when it
    cannot say: missing, from another WAL generation (other salts), or its two header
    copies disagree (a crash while it was written; SQLite rebuilds it then).

    SQLite writes and syncs the WAL frames of a commit before it counts them here, so a
    WAL with fewer frames than its index counts lost commits after the fact (truncated,
    or its end damaged) rather than in a crash. The header is two copies of 48 bytes in
    the machine's byte order: iVersion, unused, iChange, isInit, bigEndCksum, szPage,
    mxFrame, nPage, aFrameCksum[2], aSalt[2], aCksum[2]."""
    try:
        with shm.open("rb") as f:
            head = f.read(96)
    except OSError:
        return None
    if len(head) < 96 or head[:48] != head[48:96]:
        return None
    version, _, _, is_init, _, _, mx_frame, _, _, _, salt1, salt2 = struct.unpack(
        "=3IBBHII2I2I", head[:40]
    )
    if version != WAL_VERSION or not is_init:
        return None
    # the salts in the index are as SQLite read them from the big-endian WAL header
    if (salt1, salt2) != salts and (_swap(salt1), _swap(salt2)) != salts:
        return None
    return int(mx_frame)


def _swap(value: int) -> int:
    return int.from_bytes(value.to_bytes(4, "little"), "big")


def judge(main: Path, wal: Path) -> str | None:
    """What is wrong with the set, in words for the owner; None when SQLite may open it."""
    main_size = main.stat().st_size if main.exists() else None
    wal_size = wal.stat().st_size if wal.exists() else 0
    header = b""
    if main_size:
        with main.open("rb") as f:
            header = f.read(100)
        if not header.startswith(SQLITE_MAGIC):
            return f"{main.name}: file is not a database (header {header[:16]!r})"
        page_size = page_size_of(header)
        if page_size is None:
            return f"{main.name}: the header is damaged (page size)"
        if main_size % page_size:
            return (
                f"{main.name} is truncated: {main_size} bytes is not a whole number of "
                f"{page_size}-byte pages"
            )
        pages = struct.unpack(">I", header[28:32])[0]
        counter, valid_for = header[24:28], header[92:96]
        if counter == valid_for and pages * page_size > main_size and wal_size == 0:
            return (
                f"{main.name} is truncated: its header counts {pages} pages, the file holds "
                f"{main_size // page_size}"
            )
    if wal_size == 0:
        return None
    scan = scan_wal(wal)
    if scan.problem is not None:
        return f"{wal.name}: {scan.problem} ({wal_size} bytes of commits would be ignored)"
    if not main_size and scan.commits:
        state = "missing" if main_size is None else "empty"
        return (
            f"{main.name} is {state} beside a {wal.name} of {wal_size} bytes holding "
            f"{scan.commits} commit(s)"
        )
    if main_size and scan.page_size != page_size_of(header):
        return (
            f"{wal.name} does not belong to {main.name}: page size {scan.page_size}, "
            f"the database's is {page_size_of(header)}"
        )
    if scan.commits_lost:
        return (
            f"{wal.name} is damaged at frame {scan.broken_at} of {scan.total}: "
            f"{scan.commits_lost} later commit(s) would be lost"
        )
    chained = sum(1 for f in scan.frames if f.chained)
    indexed = indexed_frames(Path(str(wal)[: -len("-wal")] + "-shm"), scan.salts)
    if indexed is not None and chained < indexed:
        return (
            f"{wal.name} holds {chained} good frame(s), its index counts {indexed} committed: "
            "the end of the WAL is truncated or damaged"
        )
    if main_size and scan.frames:
        pages = max(f.commit_size for f in scan.frames if f.chained) if scan.commits else 0
        pages = max(pages, main_size // (page_size_of(header) or 1))
        written = {f.page for f in scan.frames if f.chained}
        missing = [p for p in range(1, pages + 1) if p not in written][:1]
        if missing and missing[0] * (page_size_of(header) or 1) > main_size:
            return f"{main.name} is truncated: page {missing[0]} is neither in it nor in {wal.name}"
    return None


def rebuild_image(main: Path, wal: Path, out: Path) -> str:
    """Write ``out``: a plain database made of ``main`` and every committed WAL transaction
    whose frames verify. Returns a line saying what went into it."""
    image = bytearray(main.read_bytes()) if main.exists() else bytearray()
    if image and not image.startswith(SQLITE_MAGIC):
        image = bytearray()  # its pages are unknown: only the WAL can say anything
    used = lost = 0
    if wal.exists() and wal.stat().st_size:
        scan = scan_wal(wal)
        page_size = scan.page_size
        if page_size is not None:
            data = wal.read_bytes()
            pending: list[Frame] = []
            last = -1
            for frame in scan.frames:
                if frame.index != last + 1:
                    lost += len(pending)
                    pending = []  # a transaction with a frame missing is not applied
                last = frame.index
                pending.append(frame)
                if frame.commit_size:
                    for f in pending:
                        start = (f.page - 1) * page_size
                        if len(image) < start + page_size:
                            image.extend(b"\0" * (start + page_size - len(image)))
                        image[start : start + page_size] = data[f.offset : f.offset + page_size]
                    del image[frame.commit_size * page_size :]
                    used += 1
                    pending = []
    if len(image) >= 100 and image.startswith(SQLITE_MAGIC):
        image[18:20] = b"\x01\x01"  # rollback-journal mode: the image needs no WAL
    out.write_bytes(bytes(image))
    return f"{len(image)} bytes; {used} WAL commit(s) applied, {lost} damaged frame(s) left out"


__all__ = ["WalScan", "judge", "rebuild_image", "scan_wal"]
