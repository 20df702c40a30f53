"""Loading the ATOP alliances (Alliance Treaty Obligations and Provisions, Leeds et al.), all
or nothing: ``python manage.py import_atop ALLIANCE_CSV MEMBER_CSV``.

The files are the alliance-level and member-level CSV files the ATOP project publishes
(``atop5_1a.csv`` and ``atop5_1m.csv`` in version 5.1), which the user downloads from the
project (http://www.atopdata.org/). Columns are found by name, in any order, so an older
release with the same column names loads too; other columns are ignored. The column names
are those of the published files as public code reads them (the codebook itself could not be
consulted here); the files' units (an alliance, a member in one alliance phase) are those of
the project's data page (http://atop.rice.edu/data).

Alliance file, one row per alliance:

- ``atopid`` (required): the ATOP alliance number, the registry's reference ``ATOP-<atopid>``.
- ``begyr``, ``begmo``, ``begday`` (``begyr`` required): when the alliance began.
- ``endyr``, ``endmo``, ``endday``: when it ended; no year (empty or 0) while in force.
- ``defense``, ``offense``, ``neutral``, ``nonagg``, ``consul`` (required): 1 when the
  alliance carries the obligation, 0 (or empty) when not.
- ``cowid`` (optional): the Correlates of War alliance number, named in the summary.

Member file, one row per member and alliance phase (a member may have several rows):

- ``atopid``, ``member`` (required): the alliance, and the member's Correlates of War (COW)
  state code.
- ``yrent``, ``moent``, ``dayent`` (``yrent`` required): when the member entered.
- ``yrexit``, ``moexit``, ``dayexit``: when it left; no year (empty or 0) while a member.
- ``defense``, ``offense``, ``neutral``, ``nonagg``, ``consul`` (optional): the member's own
  obligations, used to say who holds an obligation when not every member does.

What becomes of them:

- Each alliance is an agreement of type ``alliance`` written through ``agreement_save``:
  reference ``ATOP-<atopid>``, title "ATOP alliance <atopid>" (the files have no names),
  ``signed_on`` and ``entered_into_force_on`` the begin date, ``terminated_on`` the end date,
  status ``terminated`` once it has ended (an end date before today), ``in_force`` otherwise.
- Each obligation the alliance (or any of its members) carries is a provision: defense is
  ``mutual_defense``, neutral ``neutrality``, nonagg ``non_aggression``, consul
  ``consultation``, and offense (no category of its own) ``other`` titled "Offense".
- Each member is a party (its ISO 3166 alpha-3 code, see the crosswalk below) with acts: an
  ``entry_into_force`` act at its entry date, and a ``withdrawal`` act at its exit date when
  it left before the alliance ended (or while it goes on). Phases that follow each other (the
  next one begins at most a day after the last one ended) are one membership; a member that
  left and came back has a withdrawal and a second entry. Where the state behind a COW code
  changed during a membership (365, 345: see ``DATED_CODES``), the successor state is a
  party of its own with a ``succession`` act on the day it took over.

Unknown days and months: ATOP leaves a day or month it does not know empty, 0 or negative.
A begin or entry date is then taken at the earliest day it can be (the 1st of the month; 1
January when the month is unknown), an end or exit date at the latest (the last day of the
month; 31 December when the month is unknown), so a rounded membership never looks shorter
than it was. The agreement's summary says so.

The crosswalk from COW state codes to ISO 3166 alpha-3 is the ``countrycode`` package's code
list (Arel-Bundock et al., ``cown`` to ``iso3c``), with the few codes it leaves without an ISO
code, or that stand for different states at different dates, decided here
(``FIXED_CODES``, ``DATED_CODES``). A COW state with no ISO 3166 code at all (Austria-Hungary,
Bavaria, the Republic of Vietnam...) is left out of the parties and named in the summary; an
alliance left with fewer than two parties is not imported (counted "left out"). A code the
crosswalk does not know is an error on its line.

By default an import only creates: an alliance whose reference is already in the registry is
skipped and left as it is; with ``update=True`` (``--update``) it is overwritten from the
files, and one equal to them changes nothing (``unchanged``). Either way a second run of the
same files changes nothing. A problem on any line, or any alliance the service refuses, and
nothing is written; every problem is reported as "alliance file line 12: ...".
"""

from __future__ import annotations

import calendar
import csv
import datetime
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .choices import AgreementStatus, AgreementType, ProvisionCategory
from .models import Agreement
from .services import agreement_save

SOURCE = "import_atop"
ATOP_URL = "http://www.atopdata.org/"

ALLIANCE_FILE = "alliance file"
MEMBER_FILE = "member file"

# The obligations, as (column, provision category, provision title).
OBLIGATIONS = (
    ("defense", ProvisionCategory.MUTUAL_DEFENSE, ProvisionCategory.MUTUAL_DEFENSE.label),
    ("offense", ProvisionCategory.OTHER, "Offense"),
    ("neutral", ProvisionCategory.NEUTRALITY, ProvisionCategory.NEUTRALITY.label),
    ("nonagg", ProvisionCategory.NON_AGGRESSION, ProvisionCategory.NON_AGGRESSION.label),
    ("consul", ProvisionCategory.CONSULTATION, ProvisionCategory.CONSULTATION.label),
)
OBLIGATION_COLUMNS = tuple(column for column, _, _ in OBLIGATIONS)

ALLIANCE_COLUMNS = ("atopid", "begyr", *OBLIGATION_COLUMNS)
MEMBER_COLUMNS = ("atopid", "member", "yrent")

# Values that mean "not known" in the published files (Stata and R write these).
MISSING = {"", ".", "na", "nan"}


# The crosswalk: Correlates of War state codes to ISO 3166 alpha-3 ----------------------

# COW codes the countrycode list leaves without an ISO code (or without a row) whose state
# has one in ISO 3166-1 or, for a former state, ISO 3166-3 (the codes pycountry lists):
FIXED_CODES = {
    # German Federal Republic (West Germany) 1955-1990; COW gives unified Germany 255
    # again, which the code list already maps to DEU. 260 is COW's code for the German
    # Federal Republic: http://humanrightstreaties.org/trickyCountries.aspx
    260: "DEU",
    265: "DDR",  # German Democratic Republic (ISO 3166-3 DDR)
    315: "CSK",  # Czechoslovakia (ISO 3166-3 CSK); the Czech Republic and Slovakia are 316, 317
    680: "YMD",  # Yemen People's Republic (ISO 3166-3 YMD, "Yemen, Democratic")
}

# COW codes that stand for one state at one time and another later, as (first day of the
# next state or None for the last, ISO code) in order: the code on a day is the first whose
# end is after it.
DATED_CODES = {
    # 365: the Russian Empire and Soviet Russia (RUS), the USSR (SUN) from the Treaty on
    # the Creation of the USSR, approved 30 December 1922, until its end: it ceased de
    # facto on 25 December 1991 and the Council of Republics recognized its end on 26
    # December 1991 (https://archontology.org/nations/ussr/01_polity.php), Russia (RUS)
    # from then on.
    365: (
        (datetime.date(1922, 12, 30), "RUS"),
        (datetime.date(1991, 12, 26), "SUN"),
        (None, "RUS"),
    ),
    # 345: the Kingdom of Serbia (SRB) until the Kingdom of Serbs, Croats and Slovenes was
    # proclaimed on 1 December 1918
    # (https://www.hf.uio.no/ilos/english/research/projects/red-letter/rld-month/2010/12.december.html),
    # Yugoslavia (YUG) until the Constitution of the Federal Republic of Yugoslavia of 27
    # April 1992 (http://www.arhivyu.rs/active/en/home/glavna_navigacija/leksikon_jugoslavije/konstitutivni_akti_jugoslavije/ustav_srj_1992.html),
    # the Federal Republic of Yugoslavia, from 2003 Serbia and Montenegro, one state (SCG),
    # until Serbia declared itself its successor on 5 June 2006
    # (http://www.dodonline.co.uk/?showPage=article&ID=3221), Serbia (SRB) from then on.
    345: (
        (datetime.date(1918, 12, 1), "SRB"),
        (datetime.date(1992, 4, 27), "YUG"),
        (datetime.date(2006, 6, 5), "SCG"),
        (None, "SRB"),
    ),
}


@cache
def _code_list() -> dict[int, tuple[str | None, str]]:
    """COW code -> (ISO 3166 alpha-3 or None, name), from the countrycode package."""
    import countrycode

    table = countrycode.codelist
    rows = zip(table["cown"], table["iso3c"], table["cow.name"], strict=True)
    return {int(cown): (iso3, name or "") for cown, iso3, name in rows if cown is not None}


class UnknownCowCode(LookupError):
    pass


def cow_name(cow: int) -> str:
    """The state's name in the code list ("" when it has none)."""
    return _code_list().get(cow, (None, ""))[1]


def iso3_for(cow: int, on: datetime.date) -> str | None:
    """The ISO 3166 alpha-3 code of the state COW calls ``cow`` on the day ``on``; None for a
    COW state that has no ISO 3166 code; ``UnknownCowCode`` for a code that is no COW state."""
    if cow in DATED_CODES:
        for until, code in DATED_CODES[cow]:
            if until is None or on < until:
                return code
    if cow in FIXED_CODES:
        return FIXED_CODES[cow]
    if cow not in _code_list():
        raise UnknownCowCode(cow)
    return _code_list()[cow][0]


def code_spans(
    cow: int, start: datetime.date, end: datetime.date | None
) -> list[tuple[str | None, datetime.date]]:
    """The states behind ``cow`` from ``start`` to ``end`` (None: still going), as (ISO code,
    first day), in order: one pair unless the code changes state in between (``DATED_CODES``)."""
    spans = [(iso3_for(cow, start), start)]
    for until, _ in DATED_CODES.get(cow, ()):
        if until is not None and start < until and (end is None or until <= end):
            spans.append((iso3_for(cow, until), until))
    return spans


# Reading the files ------------------------------------------------------------------------


class AtopFailed(Exception):
    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} problem(s); nothing was written.")
        self.errors = errors


@dataclass
class AtopResult:
    counts: Counter = field(default_factory=Counter)
    # Members left out of their alliance for want of an ISO 3166 code: COW code -> name.
    omitted: dict[int, str] = field(default_factory=dict)


@dataclass
class Alliance:
    atopid: int
    line: int
    begins: datetime.date
    ends: datetime.date | None
    obligations: frozenset[str]
    cowid: str = ""


@dataclass
class MemberPhase:
    atopid: int
    cow: int
    line: int
    entry: datetime.date
    exit: datetime.date | None
    obligations: frozenset[str] | None  # None: the file has no obligation columns


def read_csv(path: Path, label: str, required: tuple[str, ...], errors: list[str]):
    """Yield (line number, row) with lowercased column names; a problem with the file or a
    line goes to ``errors`` as "<label> line N: ...", and a file without a required column
    yields nothing."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        for number, line in enumerate(raw.splitlines(), start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                errors.append(
                    f"{label} line {number}: not valid UTF-8 (byte 0x{line[exc.start]:02x} at "
                    f"column {exc.start + 1}); save the file as UTF-8"
                )
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            errors.append(f"{label} line 1: the file is empty")
            return
        names = [name.strip().lower() for name in header]
        missing = [name for name in required if name not in names]
        if missing:
            errors.append(f"{label} line 1: missing column(s) {', '.join(missing)}")
            return
        start = reader.line_num + 1
        for values in reader:
            if not any(value.strip() for value in values):
                start = reader.line_num + 1
                continue
            if len(values) > len(names):
                errors.append(f"{label} line {start}: more values than there are columns")
            else:
                yield start, dict(zip(names, (v.strip() for v in values), strict=False))
            start = reader.line_num + 1
    except csv.Error as exc:
        errors.append(f"{label} line {reader.line_num or 1}: not valid CSV ({exc})")


def _number(row: dict, column: str) -> int | None:
    """The whole number in ``column``; None when it is missing; ValueError when it is not a
    whole number ("12" and "12.0" are 12)."""
    value = row.get(column, "")
    if value.lower() in MISSING:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{column} is not a number ({value!r})") from None
    if not number.is_integer():
        raise ValueError(f"{column} is not a whole number ({value!r})")
    return int(number)


def atop_date(
    row: dict, year: str, month: str, day: str, *, latest: bool, required: bool = False
) -> datetime.date | None:
    """The date in three columns; a missing (or 0) year is no date (an error when
    ``required``). An unknown month or day (missing, 0 or negative) is the earliest day it can
    be, or with ``latest`` the last (see the module's docstring)."""
    y, m, d = _number(row, year), _number(row, month), _number(row, day)
    if y is None or y == 0:
        if required:
            raise ValueError(f"{year} is missing")
        return None
    if not 1 <= y <= 9999:
        raise ValueError(f"{year} is not a year ({y})")
    if m is None or m <= 0:
        return datetime.date(y, 12, 31) if latest else datetime.date(y, 1, 1)
    if m > 12:
        raise ValueError(f"{month} is not a month ({m})")
    last = calendar.monthrange(y, m)[1]
    if d is None or d <= 0:
        return datetime.date(y, m, last if latest else 1)
    if d > last:
        raise ValueError(f"{day} is not a day of {y}-{m:02d} ({d})")
    return datetime.date(y, m, d)


def _obligations(row: dict, *, required: bool) -> frozenset[str] | None:
    held = set()
    present = [c for c in OBLIGATION_COLUMNS if c in row]
    if not required and not present:
        return None
    for column in OBLIGATION_COLUMNS:
        value = _number(row, column)
        if value not in (None, 0, 1):
            raise ValueError(f"{column} must be 0 or 1 ({value})")
        if value == 1:
            held.add(column)
    return frozenset(held)


def read_alliances(path: Path, errors: list[str]) -> tuple[dict[int, Alliance], set[int] | None]:
    """The alliances of the file's good lines, and the atopids of all its lines (None when the
    file could not be read at all)."""
    alliances: dict[int, Alliance] = {}
    seen: set[int] = set()
    read = False
    for line, row in read_csv(path, ALLIANCE_FILE, ALLIANCE_COLUMNS, errors):
        read = True
        try:
            atopid = _number(row, "atopid")
            if atopid is None or atopid <= 0:
                raise ValueError("atopid is missing")
            seen.add(atopid)
            begins = atop_date(row, "begyr", "begmo", "begday", latest=False, required=True)
            ends = atop_date(row, "endyr", "endmo", "endday", latest=True)
            if ends is not None and ends < begins:
                raise ValueError(f"the end ({ends}) is before the beginning ({begins})")
            obligations = _obligations(row, required=True)
        except ValueError as exc:
            errors.append(f"{ALLIANCE_FILE} line {line}: {exc}")
            continue
        if atopid in alliances:
            errors.append(
                f"{ALLIANCE_FILE} line {line}: atopid {atopid} already appears on line "
                f"{alliances[atopid].line}"
            )
            continue
        cowid = row.get("cowid", "")
        cowid = "" if cowid.lower() in MISSING else cowid.removesuffix(".0")
        alliances[atopid] = Alliance(atopid, line, begins, ends, obligations, cowid=cowid)
    return alliances, seen if read or not errors else None


def read_members(path: Path, errors: list[str]) -> list[MemberPhase]:
    phases = []
    for line, row in read_csv(path, MEMBER_FILE, MEMBER_COLUMNS, errors):
        try:
            atopid, cow = _number(row, "atopid"), _number(row, "member")
            if atopid is None or atopid <= 0:
                raise ValueError("atopid is missing")
            if cow is None:
                raise ValueError("member is missing")
            entry = atop_date(row, "yrent", "moent", "dayent", latest=False, required=True)
            exit_ = atop_date(row, "yrexit", "moexit", "dayexit", latest=True)
            if exit_ is not None and exit_ < entry:
                raise ValueError(f"the exit ({exit_}) is before the entry ({entry})")
            try:
                iso3_for(cow, entry)
            except UnknownCowCode:
                raise ValueError(f"member {cow} is not a Correlates of War state code") from None
            obligations = _obligations(row, required=False)
        except ValueError as exc:
            errors.append(f"{MEMBER_FILE} line {line}: {exc}")
            continue
        phases.append(MemberPhase(atopid, cow, line, entry, exit_, obligations))
    return phases


# From rows to an agreement ---------------------------------------------------------------


@dataclass
class Party:
    """One party of an alliance: its code, its acts and the member-file lines behind it."""

    code: str
    acts: list[dict] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    obligations: set[str] = field(default_factory=set)


def _act(kind: str, day: datetime.date, note: str) -> dict:
    return {
        "kind": kind,
        "date": day.isoformat(),
        "effective_on": None,
        "note": note,
        "source_url": "",
    }


def _joined(spans: list[list]) -> list[list]:
    """Spans ``[start, end or None, ...]`` sorted by start, those that follow each other (the
    next starts at most a day after the last ended, or the last never ended) joined: the
    joined span keeps the first's start and takes the end (and what follows it) of the span
    that ends last."""
    joined: list[list] = []
    for span in sorted(spans, key=lambda s: s[0]):
        if joined:
            last = joined[-1]
            if last[1] is None or span[0] <= last[1] + datetime.timedelta(days=1):
                if last[1] is not None and (span[1] is None or span[1] >= last[1]):
                    last[1:] = span[1:]
                continue
        joined.append(list(span))
    return joined


def alliance_parties(
    alliance: Alliance, phases: list[MemberPhase], omitted: dict[int, str]
) -> list[Party]:
    """The parties of an alliance from its members' phases, in the order of the file; members
    without an ISO 3166 code go to ``omitted``.

    Each member's phases are joined into memberships; each membership is cut where its COW
    code changes state (``code_spans``); the pieces are then grouped by ISO code and joined
    again, so that two COW codes of one state (260 then 255 for Germany) make one
    membership. A piece that ends because its state ended (the USSR in 1991) has no exit."""
    by_member: dict[int, list[MemberPhase]] = defaultdict(list)
    for phase in phases:
        by_member[phase.cow].append(phase)
    # ISO code -> pieces [start, end or None, ends_by_exit, first act kind, COW code]
    pieces: dict[str, list[list]] = {}
    lines: dict[str, list[int]] = defaultdict(list)
    held: dict[str, set[str]] = defaultdict(set)
    for cow, own in by_member.items():
        spans = [[p.entry, p.exit] for p in own]
        for start, end in _joined(spans):
            cuts = code_spans(cow, start, end)
            for index, (code, first_day) in enumerate(cuts):
                if code is None:
                    omitted[cow] = cow_name(cow)
                    continue
                last = index == len(cuts) - 1
                piece_end = end if last else cuts[index + 1][1] - datetime.timedelta(days=1)
                kind = "entry_into_force" if index == 0 else "succession"
                pieces.setdefault(code, []).append([first_day, piece_end, last, kind, cow])
                lines[code].extend(p.line for p in own)
                held[code] |= set().union(*(p.obligations or () for p in own))
    parties = []
    for code, own_pieces in pieces.items():
        party = Party(code, lines=sorted(set(lines[code])), obligations=held[code])
        for start, end, by_exit, _, _ in _joined(own_pieces):
            first = next(p for p in own_pieces if p[0] == start)
            kind, cow = first[3], first[4]
            if kind == "succession":
                note = f"ATOP member-level: COW {cow} continued as {code} from {start}"
            else:
                note = "ATOP member-level entry"
            party.acts.append(_act(kind, start, note))
            if by_exit and end is not None and (alliance.ends is None or end < alliance.ends):
                party.acts.append(_act("withdrawal", end, "ATOP member-level exit"))
        parties.append(party)
    return parties


def agreement_data(
    alliance: Alliance, parties: list[Party], omitted: dict[int, str], today: datetime.date
) -> dict:
    """The ``agreement_save`` arguments for one alliance."""
    held = set(alliance.obligations)
    member_level = any(party.obligations for party in parties)
    for party in parties:
        held |= party.obligations
    provisions = []
    for column, category, title in OBLIGATIONS:
        if column not in held:
            continue
        text = ""
        holders = [p.code for p in parties if column in p.obligations]
        if member_level and len(holders) < len(parties):
            text = f"Held by (ATOP member-level): {', '.join(holders) or 'none of the members'}."
        provisions.append({"category": category, "title": title, "text": text})
    summary = [
        f"From the ATOP alliance-level and member-level data, ATOP alliance {alliance.atopid}"
        + (f" (COW alliance {alliance.cowid})." if alliance.cowid else "."),
        "Dates whose day or month ATOP does not know are rounded: a beginning or an entry to "
        "the first day of the month (or of the year), an end or an exit to the last.",
    ]
    if omitted:
        names = ", ".join(f"{cow} ({name})" if name else str(cow) for cow, name in omitted.items())
        summary.append(
            f"Members without an ISO 3166 code, not listed as parties (COW codes): {names}."
        )
    ended = alliance.ends is not None and alliance.ends < today
    return {
        "reference": f"ATOP-{alliance.atopid}",
        "title": f"ATOP alliance {alliance.atopid}",
        "type": AgreementType.ALLIANCE,
        "status": AgreementStatus.TERMINATED if ended else AgreementStatus.IN_FORCE,
        "signed_on": alliance.begins,
        "entered_into_force_on": alliance.begins,
        "terminated_on": alliance.ends,
        "source_url": ATOP_URL,
        "summary": " ".join(summary),
        "parties": [{"code": p.code, "acts": p.acts} for p in parties],
        "provisions": provisions,
    }


def _messages(error: ValidationError, alliance: Alliance, parties: list[Party]) -> list[str]:
    """The service's errors, each on the line it comes from: a party's on its member lines,
    the rest on the alliance's line."""
    found = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    out = []
    for key, messages in found.items():
        text = " ".join(messages)
        if key.startswith("parties[") and "]" in key:
            index = key[len("parties[") : key.index("]")]
            if index.isdigit() and int(index) < len(parties):
                party = parties[int(index)]
                lines = ", ".join(str(n) for n in sorted(party.lines))
                word = "lines" if len(party.lines) > 1 else "line"
                out.append(
                    f"{MEMBER_FILE} {word} {lines} (atopid {alliance.atopid}, {party.code}): "
                    f"{key}: {text}"
                )
                continue
        where = f"{ALLIANCE_FILE} line {alliance.line} (atopid {alliance.atopid})"
        out.append(f"{where}: {text}" if key == "__all__" else f"{where}: {key}: {text}")
    return out


# The import ------------------------------------------------------------------------------


def read_files(alliance_path: Path, member_path: Path):
    """Both files read and checked against each other: (alliances, phases by atopid,
    errors)."""
    errors: list[str] = []
    alliances, seen = read_alliances(alliance_path, errors)
    before = len(errors)
    phases = read_members(member_path, errors)
    member_errors = len(errors) > before
    by_alliance: dict[int, list[MemberPhase]] = defaultdict(list)
    for phase in phases:
        if seen is not None and phase.atopid not in seen:
            errors.append(
                f"{MEMBER_FILE} line {phase.line}: atopid {phase.atopid} is not in the "
                "alliance file"
            )
            continue
        if phase.atopid in alliances:
            by_alliance[phase.atopid].append(phase)
    for alliance in alliances.values():
        if alliance.atopid not in by_alliance and not member_errors:
            errors.append(
                f"{ALLIANCE_FILE} line {alliance.line}: atopid {alliance.atopid} has no "
                "members in the member file"
            )
    return alliances, by_alliance, errors


def import_atop(
    alliance_path: Path,
    member_path: Path,
    *,
    actor=None,
    progress_factory=None,
    update: bool = False,
) -> AtopResult:
    """Import both files in one transaction; ``AtopFailed`` (nothing written) with every
    problem found. Existing references are skipped unless ``update``."""
    alliances, by_alliance, errors = read_files(alliance_path, member_path)
    if errors:
        raise AtopFailed(errors)
    result = AtopResult()
    today = timezone.localdate()
    progress = progress_factory(total=len(alliances)) if progress_factory else None
    try:
        with transaction.atomic():
            for alliance in alliances.values():
                if progress is not None:
                    progress.update(1)
                omitted: dict[int, str] = {}
                parties = alliance_parties(alliance, by_alliance[alliance.atopid], omitted)
                result.omitted.update(omitted)
                if len(parties) < 2:
                    result.counts["left out"] += 1
                    continue
                data = agreement_data(alliance, parties, omitted, today)
                try:
                    with transaction.atomic():
                        outcome = _save(data, actor, update=update)
                    result.counts[outcome] += 1
                except ValidationError as exc:
                    errors.extend(_messages(exc, alliance, parties))
            if errors:
                transaction.set_rollback(True)
    finally:
        if progress is not None:
            progress.close()
    if errors:
        raise AtopFailed(errors)
    return result


def _save(data: dict, actor, *, update: bool) -> str:
    existing = Agreement.objects.filter(reference=data["reference"]).first()
    if existing is None:
        agreement_save(actor=actor, source=SOURCE, **data)
        return "created"
    if not update:
        return "skipped"
    before = existing.version
    saved = agreement_save(agreement=existing, actor=actor, source=SOURCE, **data)
    return "updated" if saved.version != before else "unchanged"
