"""The floor: the registry's reads written by hand, as a tiny WSGI app (raw psycopg 3 + orjson),
served by gunicorn beside the project so that ``bench.compare`` can measure how far the
project is from what the same answers cost at least.

Same clearance rule (a record is visible when its classification is at or below the user's
clearance; a provision also needs its agreement visible), same permission (the model's view
permission, through a group), the user found by the API token (``Authorization: Token …``)
in one query. The agreement list (with ``page``, ``page_size`` and ``q``), the detail and the
deadlines return JSON byte-identical to the project's (``tests/test_bench_floor.py`` checks
list and detail); stats is one GROUP BY over the visible set; the export is ``COPY … TO
STDOUT``; the HTML pages run the queries the page needs and render a minimal page; the create
inserts the agreement, its parties, provisions, search document and history with one
statement each.

Not Django: this module imports nothing from the project, so that it measures what the
database and a plain WSGI stack cost. Run: ``DATABASE_URL=postgres://… gunicorn -w 2
bench.floor:app``.
"""

from __future__ import annotations

import datetime
import os
import re
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import orjson
import psycopg

LEVELS = ["unclassified", "restricted", "confidential", "secret"]
MAX_PAGE_SIZE = 500
DEADLINE_LABELS = {"expiry": "Expiry", "notice_deadline": "Notice deadline", "review": "Review"}
LIVE = ["signed", "in_force"]  # AgreementStatus.live()
PRE_SIGNATURE = ["draft", "negotiating"]
SEARCH_CONFIG = "english"

_connection: psycopg.Connection | None = None
QUERIES = 0


def connect() -> psycopg.Connection:
    """One connection per worker process, kept (as the project's CONN_MAX_AGE does)."""
    global _connection
    if _connection is None or _connection.closed:
        url = os.environ["DATABASE_URL"]
        _connection = psycopg.connect(url, autocommit=True, options="-c jit=off -c TimeZone=UTC")
    return _connection


def query(sql: str, params=()) -> list[tuple]:
    global QUERIES
    QUERIES += 1
    return connect().execute(sql, params).fetchall()


class HTTPError(Exception):
    def __init__(self, status: str, body: dict):
        self.status, self.body = status, body


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def iso_datetime(value: datetime.datetime | None) -> str | None:
    """As DRF writes a datetime: ISO 8601, UTC as ``Z``."""
    if value is None:
        return None
    text = value.astimezone(datetime.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# The request ---------------------------------------------------------------------------------


class Request:
    def __init__(self, environ):
        self.environ = environ
        self.method = environ["REQUEST_METHOD"]
        self.path = environ.get("PATH_INFO", "/")
        self.query_string = environ.get("QUERY_STRING", "")
        self.params = {k: v[-1] for k, v in parse_qs(self.query_string).items()}
        forwarded = environ.get("HTTP_X_FORWARDED_PROTO")
        self.scheme = forwarded or environ.get("wsgi.url_scheme", "http")
        self.host = environ.get("HTTP_HOST", "localhost")

    @property
    def absolute_url(self) -> str:
        url = f"{self.scheme}://{self.host}{self.path}"
        return f"{url}?{self.query_string}" if self.query_string else url

    def link(self, path: str) -> str:
        return f"{self.scheme}://{self.host}{path}"

    def body(self) -> bytes:
        length = int(self.environ.get("CONTENT_LENGTH") or 0)
        return self.environ["wsgi.input"].read(length) if length else b""


def authenticate(request: Request, permission: str = "view_agreement"):
    """(user id, clearance rank, email) of the token's active user holding ``permission``
    through a group; 401 without a token, 403 without the permission."""
    header = request.environ.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Token "):
        raise HTTPError(
            "401 Unauthorized", {"detail": "Authentication credentials were not provided."}
        )
    rows = query(
        """
        SELECT u.id, u.clearance, u.email, EXISTS (
            SELECT 1 FROM accounts_user_groups ug
            JOIN auth_group_permissions gp ON gp.group_id = ug.group_id
            JOIN auth_permission p ON p.id = gp.permission_id
            WHERE ug.user_id = u.id AND p.codename = %s)
        FROM authtoken_token t JOIN accounts_user u ON u.id = t.user_id
        WHERE t.key = %s AND u.is_active
        """,
        [permission, header[6:].strip()],
    )
    if not rows:
        raise HTTPError("401 Unauthorized", {"detail": "Invalid token."})
    user_id, clearance, email, allowed = rows[0]
    if not allowed:
        raise HTTPError("403 Forbidden", {"detail": "You do not have permission."})
    return user_id, LEVELS.index(clearance), email


def levels(rank: int) -> list[str]:
    return LEVELS[: rank + 1]


def replace_query_param(url: str, key: str, value) -> str:
    scheme, netloc, path, query_string, fragment = urlsplit(url)
    params = parse_qs(query_string, keep_blank_values=True)
    params[key] = [str(value)]
    return urlunsplit(
        (scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment)
    )


def remove_query_param(url: str, key: str) -> str:
    scheme, netloc, path, query_string, fragment = urlsplit(url)
    params = parse_qs(query_string, keep_blank_values=True)
    params.pop(key, None)
    return urlunsplit(
        (scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment)
    )


# The agreement list --------------------------------------------------------------------------

LIST_COLUMNS = (
    "a.id, a.reference, a.title, a.type, a.status, a.classification, a.signed_on, "
    "a.entered_into_force_on, a.expires_on, a.notice_deadline, a.next_review_on"
)


def _page_params(request: Request) -> tuple[int, int]:
    try:
        size = int(request.params.get("page_size", 50))
        page = int(request.params.get("page", 1))
    except ValueError:
        raise HTTPError("400 Bad Request", {"page": ["Must be a whole number."]}) from None
    if not 1 <= size <= MAX_PAGE_SIZE or page < 1:
        raise HTTPError("400 Bad Request", {"page_size": ["Out of range."]})
    return page, size


def _parties_and_categories(ids: list[int], allowed: list[str]):
    """{agreement id: [party dicts]} and {agreement id: sorted categories}, one query."""
    rows = query(
        """
        SELECT 0, p.agreement_id, p.id, COALESCE(n.iso3, o.acronym), COALESCE(n.name, o.name),
               p.nation_id IS NOT NULL
        FROM agreements_agreementparty p
        LEFT JOIN partners_nation n ON n.id = p.nation_id
        LEFT JOIN partners_organization o ON o.id = p.organization_id
        WHERE p.agreement_id = ANY(%(ids)s)
        UNION ALL
        SELECT DISTINCT 1, agreement_id, 0, category, NULL::text, NULL::boolean
        FROM agreements_provision
        WHERE agreement_id = ANY(%(ids)s) AND classification = ANY(%(levels)s)
        ORDER BY 1, 3
        """,
        {"ids": ids, "levels": allowed},
    )
    parties: dict[int, list] = {i: [] for i in ids}
    categories: dict[int, list] = {i: [] for i in ids}
    for kind, agreement_id, _, code, name, is_nation in rows:
        if kind == 0:
            parties[agreement_id].append(
                {"code": code, "name": name, "kind": "nation" if is_nation else "organization"}
            )
        else:
            categories[agreement_id].append(code)
    return parties, {k: sorted(v) for k, v in categories.items()}


def _list_item(row, parties, categories, request) -> dict:
    (pk, reference, title, type_, status, classification, signed, eif, expires, notice, review) = (
        row
    )
    return {
        "id": pk,
        "reference": reference,
        "title": title,
        "type": type_,
        "status": status,
        "classification": classification,
        "signed_on": iso(signed),
        "entered_into_force_on": iso(eif),
        "expires_on": iso(expires),
        "notice_deadline": iso(notice),
        "next_review_on": iso(review),
        "parties": parties[pk],
        "provision_categories": categories[pk],
        "url": request.link(f"/api/v1/agreements/{pk}/"),
    }


def agreement_rows(rank: int, page: int, size: int, q: str | None):
    """(count, rows of the page) of the visible agreements, searched with ``q``."""
    allowed = levels(rank)
    if q:
        search = """
            FROM agreements_agreement a
            JOIN agreements_agreementsearchdocument d
              ON d.agreement_id = a.id AND d.level_from <= %(rank)s AND d.level_to >= %(rank)s
            WHERE a.classification = ANY(%(levels)s)
              AND d.vector @@ websearch_to_tsquery('english'::regconfig, %(q)s)
        """
        params = {"rank": rank, "levels": allowed, "q": q, "limit": size}
        params["offset"] = (page - 1) * size
        count = query(f"SELECT COUNT(*) {search}", params)[0][0]
        rows = query(
            f"""SELECT {LIST_COLUMNS} {search}
            ORDER BY ts_rank(d.vector, websearch_to_tsquery('english'::regconfig, %(q)s)) DESC,
                     a.reference ASC
            LIMIT %(limit)s OFFSET %(offset)s""",
            params,
        )
        return count, rows
    params = {"levels": allowed, "limit": size, "offset": (page - 1) * size}
    count = query(
        "SELECT COUNT(*) FROM agreements_agreement a WHERE a.classification = ANY(%(levels)s)",
        params,
    )[0][0]
    rows = query(
        f"""SELECT {LIST_COLUMNS} FROM agreements_agreement a
        WHERE a.classification = ANY(%(levels)s)
        ORDER BY a.signed_on DESC, a.reference ASC LIMIT %(limit)s OFFSET %(offset)s""",
        params,
    )
    return count, rows


def agreement_list(request: Request):
    _, rank, _ = authenticate(request)
    page, size = _page_params(request)
    count, rows = agreement_rows(rank, page, size, request.params.get("q"))
    ids = [row[0] for row in rows]
    parties, categories = _parties_and_categories(ids, levels(rank)) if ids else ({}, {})
    url = request.absolute_url
    pages = max(1, -(-count // size))
    if page > pages:
        raise HTTPError("400 Bad Request", {"page": ["Invalid page."]})
    return {
        "count": count,
        "next": replace_query_param(url, "page", page + 1) if page < pages else None,
        "previous": (
            None
            if page == 1
            else remove_query_param(url, "page")
            if page == 2
            else replace_query_param(url, "page", page - 1)
        ),
        "results": [_list_item(row, parties, categories, request) for row in rows],
    }


# The detail ----------------------------------------------------------------------------------

DETAIL_SQL = """
SELECT a.id, a.reference, a.title, a.type, a.status, a.classification, a.signed_on,
       a.entered_into_force_on, a.expires_on, a.notice_deadline, a.next_review_on,
       a.short_title, a.summary, a.source_url, a.terminated_on, a.auto_renews,
       a.renewal_period_months, a.notice_period_days, a.notice_given_on,
       a.review_interval_months, a.office_email, a.reminder_offsets, a.version, a.revisions,
       a.created_at, a.updated_at,
       s.id, s.reference, s.title, s.classification,
       p.id, p.reference, p.title, p.classification,
       owner.username,
       (SELECT json_agg(json_build_array(
            COALESCE(n.iso3, o.acronym), COALESCE(n.name, o.name), pa.nation_id IS NOT NULL,
            pa.signed_on, pa.ratified_on, pa.entered_into_force_on, pa.withdrawn_on,
            (SELECT pp.status FROM agreements_partyperiod pp WHERE pp.party_id = pa.id
               AND pp.starts_on <= %(today)s AND (pp.ends_on IS NULL OR pp.ends_on > %(today)s)
             ORDER BY pp.starts_on LIMIT 1),
            (SELECT json_agg(json_build_array(act.kind, act.date, act.effective_on, act.note,
                                              act.source_url) ORDER BY act.date, act.id)
             FROM agreements_partyact act WHERE act.party_id = pa.id)) ORDER BY pa.id)
        FROM agreements_agreementparty pa
        LEFT JOIN partners_nation n ON n.id = pa.nation_id
        LEFT JOIN partners_organization o ON o.id = pa.organization_id
        WHERE pa.agreement_id = a.id),
       (SELECT json_agg(json_build_array(pr.id, pr.category, pr.title, pr.article, pr.text,
                                         pr.classification)
                        ORDER BY pr.category, pr.article, pr.id)
        FROM agreements_provision pr
        WHERE pr.agreement_id = a.id AND pr.classification = ANY(%(levels)s)),
       (SELECT json_agg(json_build_array(r.id, r.reviewed_on, ru.username, r.outcome, r.notes)
                        ORDER BY r.reviewed_on DESC, r.id DESC)
        FROM agreements_review r LEFT JOIN accounts_user ru ON ru.id = r.reviewer_id
        WHERE r.agreement_id = a.id),
       (SELECT json_agg(json_build_array(e.id, e.kind, e.date, e.note) ORDER BY e.date, e.id)
        FROM agreements_agreementevent e WHERE e.agreement_id = a.id),
       (SELECT json_agg(json_build_array(m.id, m.kind, m.due_on, m.days_before, m.recipient,
                                         m.status, m.attempts, m.sent_at)
                        ORDER BY m.due_on DESC, m.kind, m.recipient)
        FROM agreements_reminder m WHERE m.agreement_id = a.id
          AND (m.recipient_user_id = %(user)s OR UPPER(m.recipient) = UPPER(%(email)s))),
       (SELECT json_agg(wu.username) FROM agreements_agreement_watchers w
        JOIN accounts_user wu ON wu.id = w.user_id WHERE w.agreement_id = a.id),
       (SELECT json_agg(json_build_array(c.id, c.name, c.rank, c.role, cn.iso3)
                        ORDER BY cn.name, c.name)
        FROM agreements_agreement_contacts ac
        JOIN partners_pointofcontact c ON c.id = ac.pointofcontact_id
        JOIN partners_nation cn ON cn.id = c.represents_id WHERE ac.agreement_id = a.id),
       (SELECT json_agg(json_build_array(en.id, en.title, en.kind, en.status, en.starts_on,
                                         en.ends_on)
                        ORDER BY en.starts_on DESC, en.title, en.id)
        FROM engagements_engagement_agreements ea
        JOIN engagements_engagement en ON en.id = ea.engagement_id
        WHERE ea.agreement_id = a.id AND en.classification = ANY(%(levels)s)
          AND EXISTS (
            SELECT 1 FROM accounts_user_groups ug
            JOIN auth_group_permissions gp ON gp.group_id = ug.group_id
            JOIN auth_permission p ON p.id = gp.permission_id
            JOIN django_content_type ct ON ct.id = p.content_type_id
            WHERE ug.user_id = %(user)s AND ct.app_label = 'engagements'
              AND p.codename = 'view_engagement'))
FROM agreements_agreement a
LEFT JOIN agreements_agreement s ON s.id = a.supersedes_id
LEFT JOIN agreements_agreement p ON p.id = a.parent_id
LEFT JOIN accounts_user owner ON owner.id = a.owner_id
WHERE a.id = %(pk)s AND a.classification = ANY(%(levels)s)
"""


def _ref(request, pk, reference, title, classification, rank):
    if pk is None or LEVELS.index(classification) > rank:
        return None
    return {
        "id": pk,
        "reference": reference,
        "title": title,
        "url": request.link(f"/api/v1/agreements/{pk}/"),
    }


def _json_datetime(text: str | None) -> str | None:
    if text is None:
        return None
    return iso_datetime(datetime.datetime.fromisoformat(text))


def _json(value):
    """A json/jsonb value (text where the connection leaves it unparsed, as Django's does)."""
    return orjson.loads(value) if isinstance(value, str) else value


def agreement_detail(request: Request, pk: int):
    user_id, rank, email = authenticate(request)
    today = datetime.datetime.now(datetime.UTC).date()
    rows = query(
        DETAIL_SQL,
        {"pk": pk, "levels": levels(rank), "today": today, "user": user_id, "email": email or ""},
    )
    if not rows:
        raise HTTPError("404 Not Found", {"detail": "No Agreement matches the given query."})
    row = rows[0]
    (
        pk,
        reference,
        title,
        type_,
        status,
        classification,
        signed,
        eif,
        expires,
        notice,
        review,
        short_title,
        summary,
        source_url,
        terminated,
        auto_renews,
        renewal,
        notice_days,
        notice_given,
        review_interval,
        office_email,
        offsets,
        version,
        revisions,
        created,
        updated,
        *links,
        owner,
        parties,
        provisions,
        reviews,
        events,
        reminders,
        watchers,
        contacts,
        engagements,
    ) = row
    offsets, revisions, parties, provisions, reviews, events, reminders, watchers, contacts = (
        _json(v)
        for v in (
            offsets,
            revisions,
            parties,
            provisions,
            reviews,
            events,
            reminders,
            watchers,
            contacts,
        )
    )
    engagements = _json(engagements) or []
    parties, provisions = parties or [], provisions or []
    level = LEVELS[rank]
    if revisions:
        seen = revisions.get(level) or [0, None]
        version = seen[0]
        if seen[1]:
            updated = datetime.datetime.fromisoformat(seen[1])
    count = len(parties)
    return {
        "id": pk,
        "reference": reference,
        "title": title,
        "type": type_,
        "status": status,
        "classification": classification,
        "signed_on": iso(signed),
        "entered_into_force_on": iso(eif),
        "expires_on": iso(expires),
        "notice_deadline": iso(notice),
        "next_review_on": iso(review),
        "parties": [
            {
                "code": code,
                "name": name,
                "kind": "nation" if is_nation else "organization",
                "signed_on": p_signed,
                "ratified_on": ratified,
                "entered_into_force_on": p_eif,
                "withdrawn_on": withdrawn,
                "status": p_status,
                "acts": [
                    {"kind": k, "date": d, "effective_on": e, "note": note, "source_url": url}
                    for k, d, e, note, url in acts or []
                ],
            }
            for (code, name, is_nation, p_signed, ratified, p_eif, withdrawn, p_status, acts) in (
                parties
            )
        ],
        "provision_categories": sorted({p[1] for p in provisions}),
        "url": request.link(f"/api/v1/agreements/{pk}/"),
        "short_title": short_title,
        "summary": summary,
        "source_url": source_url,
        "terminated_on": iso(terminated),
        "auto_renews": auto_renews,
        "renewal_period_months": renewal,
        "notice_period_days": notice_days,
        "notice_given_on": iso(notice_given),
        "review_interval_months": review_interval,
        "supersedes": _ref(request, *links[0:4], rank),
        "parent": _ref(request, *links[4:8], rank),
        "owner": owner,
        "watchers": sorted(watchers or []),
        "contacts": [
            {
                "id": c_id,
                "name": c_name,
                "rank": c_rank,
                "role": c_role,
                "represents": c_iso3,
                "url": request.link(f"/api/v1/points-of-contact/{c_id}/"),
            }
            for c_id, c_name, c_rank, c_role, c_iso3 in contacts or []
        ],
        "office_email": office_email,
        "reminder_offsets": offsets,
        "lateral": "bilateral" if count == 2 else "multilateral" if count > 2 else "",
        "version": version,
        "created_at": iso_datetime(created),
        "updated_at": iso_datetime(updated),
        "provisions": [
            dict(
                zip(
                    ("id", "category", "title", "article", "text", "classification"), p, strict=True
                )
            )
            for p in provisions
        ],
        "reviews": [
            dict(zip(("id", "reviewed_on", "reviewer", "outcome", "notes"), r, strict=True))
            for r in reviews or []
        ],
        "events": [dict(zip(("id", "kind", "date", "note"), e, strict=True)) for e in events or []],
        "reminders": [
            {
                **dict(
                    zip(
                        ("id", "kind", "due_on", "days_before", "recipient", "status", "attempts"),
                        m[:7],
                        strict=True,
                    )
                ),
                "sent_at": _json_datetime(m[7]),
            }
            for m in reminders or []
        ],
        "engagements": [
            {
                "id": e_id,
                "title": e_title,
                "kind": e_kind,
                "status": e_status,
                "starts_on": e_starts,
                "ends_on": e_ends,
                "url": request.link(f"/api/v1/engagements/{e_id}/"),
            }
            for e_id, e_title, e_kind, e_status, e_starts, e_ends in engagements
        ],
    }


# Deadlines, stats, export --------------------------------------------------------------------


def due_rows(allowed: list[str], start: datetime.date, end: datetime.date, extra: str = ""):
    """(kind, due_on, id, reference, title) of every due date from ``start`` to ``end``."""
    return query(
        f"""
        SELECT k.kind, k.due_on, a.id, a.reference, a.title
        FROM agreements_agreement a
        CROSS JOIN LATERAL (VALUES
            ('expiry', CASE WHEN a.status = ANY(%(live)s) THEN a.expires_on END),
            ('notice_deadline', CASE WHEN a.status = ANY(%(live)s) AND a.notice_given_on IS NULL
                                     THEN a.notice_deadline END),
            ('review', CASE WHEN a.status = ANY(%(review)s) THEN a.next_review_on END)
        ) AS k(kind, due_on)
        WHERE a.classification = ANY(%(levels)s)
          AND (a.expires_on BETWEEN %(start)s AND %(end)s
               OR a.notice_deadline BETWEEN %(start)s AND %(end)s
               OR a.next_review_on BETWEEN %(start)s AND %(end)s)
          AND k.due_on BETWEEN %(start)s AND %(end)s {extra}
        ORDER BY k.due_on, k.kind, a.reference
        """,
        {
            "levels": allowed,
            "live": LIVE,
            "review": PRE_SIGNATURE + LIVE,
            "start": start,
            "end": end,
        },
    )


def deadlines(request: Request):
    _, rank, _ = authenticate(request)
    within = int(request.params.get("within", 90))
    today = datetime.datetime.now(datetime.UTC).date()
    rows = due_rows(levels(rank), today, today + datetime.timedelta(days=within))
    return {
        "within": within,
        "count": len(rows),
        "results": [
            {
                "kind": kind,
                "label": DEADLINE_LABELS[kind],
                "due_on": due_on.isoformat(),
                "days_left": (due_on - today).days,
                "agreement": {
                    "id": pk,
                    "reference": reference,
                    "title": title,
                    "url": request.link(f"/api/v1/agreements/{pk}/"),
                },
            }
            for kind, due_on, pk, reference, title in rows
        ],
    }


STATS_SQL = """
WITH visible AS (
    SELECT id, type, status, EXTRACT(YEAR FROM signed_on)::int AS year
    FROM agreements_agreement WHERE classification = ANY(%(levels)s)
)
SELECT 'total', NULL, COUNT(*) FROM visible
UNION ALL SELECT 'year', year::text, COUNT(*) FROM visible GROUP BY year
UNION ALL SELECT 'type', type, COUNT(*) FROM visible GROUP BY type
UNION ALL SELECT 'status', status, COUNT(*) FROM visible GROUP BY status
UNION ALL SELECT 'category', pr.category, COUNT(DISTINCT pr.agreement_id)
    FROM agreements_provision pr JOIN visible v ON v.id = pr.agreement_id
    WHERE pr.classification = ANY(%(levels)s) GROUP BY pr.category
UNION ALL SELECT 'partner', COALESCE(n.iso3, o.acronym), COUNT(*)
    FROM agreements_agreementparty pa JOIN visible v ON v.id = pa.agreement_id
    LEFT JOIN partners_nation n ON n.id = pa.nation_id
    LEFT JOIN partners_organization o ON o.id = pa.organization_id
    GROUP BY COALESCE(n.iso3, o.acronym)
"""


def stats_rows(rank: int):
    return query(STATS_SQL, {"levels": levels(rank)})


def stats(request: Request):
    _, rank, _ = authenticate(request, "view_statistics")
    out: dict = {}
    for grouping, key, count in stats_rows(rank):
        if grouping == "total":
            out["total"] = count
        else:
            out.setdefault(grouping, []).append({"key": key, "count": count})
    return out


def export(request: Request, start_response):
    _, rank, _ = authenticate(request, "export_agreement")
    allowed = levels(rank)
    global QUERIES
    QUERIES += 1
    start_response("200 OK", [("Content-Type", "text/csv; charset=utf-8")])
    sql = """
        COPY (
            SELECT a.id, a.reference, a.title, a.short_title, a.type, a.status,
                   a.classification, a.signed_on, a.entered_into_force_on, a.expires_on,
                   a.terminated_on, a.notice_deadline, a.next_review_on,
                   CASE WHEN a.auto_renews THEN 'yes' ELSE 'no' END,
                   (SELECT string_agg(COALESCE(n.iso3, o.acronym), ';' ORDER BY pa.id)
                    FROM agreements_agreementparty pa
                    LEFT JOIN partners_nation n ON n.id = pa.nation_id
                    LEFT JOIN partners_organization o ON o.id = pa.organization_id
                    WHERE pa.agreement_id = a.id),
                   (SELECT string_agg(DISTINCT pr.category, ';') FROM agreements_provision pr
                    WHERE pr.agreement_id = a.id AND pr.classification = ANY(%s)),
                   a.source_url, a.renewal_period_months, a.notice_period_days,
                   a.notice_given_on, a.review_interval_months
            FROM agreements_agreement a WHERE a.classification = ANY(%s)
            ORDER BY a.signed_on DESC, a.reference
        ) TO STDOUT WITH (FORMAT csv, HEADER)
    """
    cursor = connect().cursor()

    def stream():
        with cursor.copy(sql, [allowed, allowed]) as copy:
            for chunk in copy:
                yield bytes(chunk)

    return stream()


# The pages -----------------------------------------------------------------------------------


def _html(title: str, rows: list[str]) -> list[bytes]:
    return [f"<!doctype html><title>{title}</title><table>{''.join(rows)}</table>".encode()]


def _escape(text) -> str:
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def dashboard_page(request: Request) -> list[bytes]:
    """What the dashboard shows: the counts (one query), the deadlines of the next 90 days,
    the last ten visible changes, the agreements in force per nation today."""
    _, rank, _ = authenticate(request)
    allowed = levels(rank)
    today = datetime.datetime.now(datetime.UTC).date()
    counts = stats_rows(rank)
    due = due_rows(allowed, today, today + datetime.timedelta(days=90))
    changes = query(
        """SELECT c.id, c.at, c.object_repr, c.action, u.username FROM history_changerecord c
        LEFT JOIN accounts_user u ON u.id = c.actor_id
        WHERE c.classification = ANY(%s) ORDER BY c.at DESC, c.id DESC LIMIT 10""",
        [allowed],
    )
    in_force = query(
        """SELECT n.iso3, COUNT(DISTINCT pp.agreement_id) FROM agreements_partyperiod pp
        JOIN agreements_agreementparty pa ON pa.id = pp.party_id
        JOIN partners_nation n ON n.id = pa.nation_id
        JOIN agreements_agreement a ON a.id = pp.agreement_id
        WHERE pp.status = 'bound' AND pp.starts_on <= %(today)s
          AND (pp.ends_on IS NULL OR pp.ends_on > %(today)s)
          AND a.classification = ANY(%(levels)s) AND a.entered_into_force_on <= %(today)s
          AND (a.expires_on IS NULL OR a.expires_on >= %(today)s)
          AND (a.terminated_on IS NULL OR a.terminated_on > %(today)s)
        GROUP BY n.iso3""",
        {"today": today, "levels": allowed},
    )
    rows = [f"<tr><td>{g}<td>{_escape(k)}<td>{c}" for g, k, c in counts]
    rows += [f"<tr><td>{k}<td>{d}<td>{_escape(r)}" for k, d, _, r, _ in due]
    rows += [f"<tr><td>{at}<td>{_escape(r)}<td>{a}<td>{u}" for _, at, r, a, u in changes]
    rows += [f"<tr><td>{code}<td>{n}" for code, n in in_force]
    return _html("Dashboard", rows)


def list_page(request: Request) -> list[bytes]:
    """The list page: the API's page of agreements as an HTML table (and the year counts its
    chart shows)."""
    _, rank, _ = authenticate(request)
    page, size = _page_params(request)
    count, rows = agreement_rows(rank, page, size, request.params.get("q"))
    ids = [row[0] for row in rows]
    parties, categories = _parties_and_categories(ids, levels(rank)) if ids else ({}, {})
    years = query(
        """SELECT EXTRACT(YEAR FROM signed_on)::int, COUNT(*) FROM agreements_agreement
        WHERE classification = ANY(%s) GROUP BY 1""",
        [levels(rank)],
    )
    out = [f"<tr><td>{count}"]
    for row in rows:
        item = _list_item(row, parties, categories, request)
        names = ", ".join(_escape(p["name"]) for p in item["parties"])
        out.append(
            f'<tr><td><a href="/agreements/{item["id"]}/">{_escape(item["reference"])}</a>'
            f"<td>{_escape(item['title'])}<td>{item['status']}<td>{item['signed_on']}"
            f"<td>{names}<td>{', '.join(item['provision_categories'])}"
        )
    out += [f"<tr><td>{y}<td>{n}" for y, n in years]
    return _html("Agreements", out)


def agreement_page(request: Request, pk: int) -> list[bytes]:
    data = agreement_detail(request, pk)
    rows = [f"<tr><th>{k}<td>{_escape(v)}" for k, v in data.items() if not isinstance(v, list)]
    rows += [f"<tr><td>{_escape(p['name'])}<td>{p['status']}" for p in data["parties"]]
    rows += [f"<tr><td>{_escape(p['title'])}<td>{_escape(p['text'])}" for p in data["provisions"]]
    return _html(_escape(data["reference"]), rows)


# Writing -------------------------------------------------------------------------------------


def create(request: Request):
    """The agreement, its parties, provisions, search document and change records: one
    statement each, in one transaction."""
    user_id, rank, _ = authenticate(request, "add_agreement")
    data = orjson.loads(request.body())
    now = datetime.datetime.now(datetime.UTC)
    conn = connect()
    global QUERIES
    with conn.transaction():
        QUERIES += 6
        classification = data.get("classification", "unclassified")
        pk = conn.execute(
            """INSERT INTO agreements_agreement (reference, title, short_title, summary,
                source_url, type, status, classification, signed_on, entered_into_force_on,
                auto_renews, office_email, version, revisions, created_at, updated_at)
            VALUES (%s, %s, '', %s, '', %s, %s, %s, %s, %s, false, '', 1, '{}', %s, %s)
            RETURNING id""",
            [
                data["reference"],
                data["title"],
                data.get("summary", ""),
                data["type"],
                data["status"],
                classification,
                data.get("signed_on"),
                data.get("entered_into_force_on"),
                now,
                now,
            ],
        ).fetchone()[0]
        codes = [p["code"] for p in data.get("parties", [])]
        conn.execute(
            """INSERT INTO agreements_agreementparty (agreement_id, nation_id)
            SELECT %s, n.id FROM unnest(%s::text[]) WITH ORDINALITY AS c(code, i)
            JOIN partners_nation n ON n.iso3 = c.code ORDER BY c.i""",
            [pk, codes],
        )
        provisions = data.get("provisions", [])
        conn.execute(
            """INSERT INTO agreements_provision (agreement_id, category, title, article, text,
                classification, search_vector)
            SELECT %s, c, t, ar, tx, %s,
                   setweight(to_tsvector('english'::regconfig, t || ' ' || tx), 'C')
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) AS x(c, t, ar, tx)""",
            [
                pk,
                classification,
                [p["category"] for p in provisions],
                [p["title"] for p in provisions],
                [p.get("article", "") for p in provisions],
                [p.get("text", "") for p in provisions],
            ],
        )
        conn.execute(
            """INSERT INTO agreements_agreementsearchdocument (agreement_id, level_from,
                level_to, heading, summary, body, vector)
            SELECT a.id, %s, 3, '', '', '',
                setweight(to_tsvector('english'::regconfig, a.reference || ' ' || a.title), 'A')
                || setweight(to_tsvector('english'::regconfig, a.summary), 'B')
                || setweight(to_tsvector('english'::regconfig, COALESCE((SELECT string_agg(
                    pr.title || E'\\n' || pr.text, E'\\n' ORDER BY pr.category, pr.article, pr.id)
                    FROM agreements_provision pr WHERE pr.agreement_id = a.id), '')), 'C')
            FROM agreements_agreement a WHERE a.id = %s""",
            [LEVELS.index(classification), pk],
        )
        changes = orjson.dumps({k: [None, v] for k, v in data.items() if not isinstance(v, list)})
        conn.execute(
            """INSERT INTO history_changerecord (changed_object_type_id, changed_object_id,
                object_repr, related_object_type_id, related_object_id, related_repr, action,
                changes, classification, actor_id, source, at)
            SELECT ct.id, x.id, x.repr, rt.id, x.rel, x.relrepr, 'create', x.changes,
                   %(classification)s, %(actor)s, 'api', %(now)s
            FROM (
                SELECT 'agreement' AS model, %(pk)s::bigint AS id, %(reference)s AS repr,
                       NULL::bigint AS rel, '' AS relrepr, %(changes)s::jsonb AS changes
                UNION ALL SELECT 'agreementparty', p.id, '', %(pk)s, %(reference)s, '{}'::jsonb
                    FROM agreements_agreementparty p WHERE p.agreement_id = %(pk)s
                UNION ALL SELECT 'provision', p.id, p.title, %(pk)s, %(reference)s,
                    jsonb_build_object('title', jsonb_build_array(NULL, p.title),
                                       'text', jsonb_build_array(NULL, p.text))
                    FROM agreements_provision p WHERE p.agreement_id = %(pk)s
            ) x
            JOIN django_content_type ct ON ct.app_label = 'agreements' AND ct.model = x.model
            LEFT JOIN django_content_type rt ON x.rel IS NOT NULL
                 AND rt.app_label = 'agreements' AND rt.model = 'agreement'""",
            {
                "classification": classification,
                "actor": user_id,
                "now": now,
                "pk": pk,
                "reference": data["reference"],
                "changes": changes.decode(),
            },
        )
    return pk


# The app -------------------------------------------------------------------------------------

DETAIL = re.compile(r"^/api/v1/agreements/(\d+)/$")
PAGE = re.compile(r"^/agreements/(\d+)/$")


def app(environ, start_response):
    global QUERIES
    QUERIES = 0
    request = Request(environ)
    path = request.path
    try:
        if request.method == "POST" and path == "/api/v1/agreements/":
            pk = create(request)
            request.method = "GET"
            body = orjson.dumps(agreement_detail(request, pk))
            status = "201 Created"
        elif path == "/api/v1/agreements/export/":
            return export(request, start_response)
        elif path in ("/", "/agreements/") or PAGE.match(path):
            match = PAGE.match(path)
            if match:
                chunks = agreement_page(request, int(match.group(1)))
            elif path == "/":
                chunks = dashboard_page(request)
            else:
                chunks = list_page(request)
            start_response(
                "200 OK",
                [("Content-Type", "text/html; charset=utf-8"), ("X-Queries", str(QUERIES))],
            )
            return chunks
        else:
            if path == "/api/v1/agreements/":
                data = agreement_list(request)
            elif match := DETAIL.match(path):
                data = agreement_detail(request, int(match.group(1)))
            elif path == "/api/v1/deadlines/":
                data = deadlines(request)
            elif path == "/api/v1/stats/":
                data = stats(request)
            else:
                raise HTTPError("404 Not Found", {"detail": "Not found."})
            body = orjson.dumps(data)
            status = "200 OK"
    except HTTPError as error:
        status, body = error.status, orjson.dumps(error.body)
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Queries", str(QUERIES)),
        ],
    )
    return [body]
