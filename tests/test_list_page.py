"""The browser's agreement list beyond the filter itself: partner names with suggestions,
checkbox groups, removable chips of the filters in use, sortable headings; and the year
chart's markup on the dashboard. Everything here works without JavaScript."""

import datetime
import html as html_lib
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from config.charts import year_columns

from .factories import AgreementFactory, NationFactory, ProvisionFactory
from .test_pages import PUBLIC_TITLE, page, queries
from .world import SECRET_TITLE


def chip_links(html: str) -> dict[str, str]:
    """The chips by their visible text ("Type: Training"), with their links."""
    found = {}
    for href, body in re.findall(r'<a class="chip" href="([^"]*)">(.*?)</a>', html, re.S):
        body = re.sub(r'<span class="(visually-hidden|chip-x)"[^>]*>[^<]*</span>', "", body)
        text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", body)).split())
        found[text] = html_lib.unescape(href)
    return found


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# Partners by name ---------------------------------------------------------------------------


def test_partner_fields_suggest_names_and_take_them(client, world, viewer):
    NationFactory(iso3="FXX", name="France")
    html = page(client, viewer, "/agreements/?party=Philippines")
    assert PUBLIC_TITLE in html and "1 agreement matches" in html
    assert 'list="partner-names"' in html and 'list="organization-names"' in html
    partner_list = html[html.index('<datalist id="partner-names">') :]
    partner_list = partner_list[: partner_list.index("</datalist>")]
    assert '<option value="Philippines">PHL</option>' in partner_list
    assert '<option value="North Atlantic Treaty Organization">NATO</option>' in partner_list
    # Two partners bear the name France: each is offered by its code.
    assert '<option value="FRA">France (FRA)</option>' in partner_list
    assert '<option value="FXX">France (FXX)</option>' in partner_list
    organizations = html[html.index('<datalist id="organization-names">') :]
    organizations = organizations[: organizations.index("</datalist>")]
    assert "NATO" in organizations and "Philippines" not in organizations


def test_an_ambiguous_or_unknown_name_is_explained_by_parameter(client, world, viewer):
    NationFactory(iso3="FXX", name="France")
    html = page(client, viewer, "/agreements/?party=France", status=400)
    assert '<a href="#id_party">party</a>: France is the name of more than one partner' in html
    assert "(FRA, FXX): give the code." in html
    html = page(client, viewer, "/agreements/?organization=Narnia", status=400)
    assert (
        '<a href="#id_organization">organization</a>: No organization has the code or name: '
        "Narnia." in html
    )


# Checkbox groups ----------------------------------------------------------------------------


def test_multi_value_filters_are_checkbox_groups(client, world, analyst):
    html = page(client, analyst, "/agreements/?type=training,dca&region=asia")
    assert "<select multiple" not in html and " multiple" not in html
    for name in ("type", "status", "region", "category", "classification"):
        assert f'<fieldset class="checks" id="id_{name}">' in html, name
    assert "<legend>Type <span" in html and "<legend>Region <span" in html
    assert '<input type="checkbox" name="type" value="training" checked>' in html
    assert '<input type="checkbox" name="type" value="dca" checked>' in html
    assert '<input type="checkbox" name="type" value="sofa">' in html
    assert '<input type="checkbox" name="region" value="Asia" checked>' in html
    # Ticking two boxes sends the parameter twice: one short address, "any of".
    response = client.get("/agreements/?type=training&type=dca")
    assert response.status_code == 302 and response.url == "/agreements/?type=training%2Cdca"
    assert "2 agreements match" in page(client, analyst, response.url)


def test_the_viewer_is_offered_no_classification_above_clearance(client, world, viewer):
    html = page(client, viewer, "/agreements/")
    assert 'name="classification" value="unclassified"' in html
    assert 'value="secret"' not in html


# Chips --------------------------------------------------------------------------------------


def test_each_filter_value_is_a_chip_that_removes_only_itself(client, world, analyst):
    url = "/agreements/?type=training,dca&party=usa,Philippines&q=accord&ordering=title&page=1"
    html = page(client, analyst, url)
    chips = chip_links(html)
    assert set(chips) == {
        "All of these parties: United States (USA)",
        "All of these parties: Philippines (PHL)",
        "Type: Training",
        "Type: Defense cooperation agreement",
        "Search: accord",
    }
    assert query_of(chips["Type: Training"]) == {
        "type": ["dca"],
        "party": ["usa,Philippines"],
        "q": ["accord"],
        "ordering": ["title"],
    }
    # What remains of a partner list is given by code; the page number goes.
    assert query_of(chips["All of these parties: United States (USA)"]) == {
        "type": ["training,dca"],
        "party": ["PHL"],
        "q": ["accord"],
        "ordering": ["title"],
    }
    assert "q" not in query_of(chips["Search: accord"])
    assert '<a class="clear-all" href="/agreements/?ordering=title">Clear all</a>' in html
    # Following a chip: the filter is gone, the rest still applies.
    after = page(client, analyst, chips["Type: Training"])
    assert "Type: Training" not in chip_links(after)
    assert "Type: Defense cooperation agreement" in chip_links(after)


def test_a_filter_in_error_is_one_chip_that_removes_it(client, world, viewer):
    html = page(client, viewer, "/agreements/?party=Narnia&type=training", status=400)
    chips = chip_links(html)
    assert query_of(chips["All of these parties: Narnia"]) == {"type": ["training"]}
    assert chips["Type: Training"] == "/agreements/?party=Narnia"
    # Removing the bad one shows results again.
    assert PUBLIC_TITLE in page(client, viewer, chips["All of these parties: Narnia"])


def test_no_chips_without_filters(client, world, viewer):
    html = page(client, viewer, "/agreements/?ordering=title&page_size=25")
    assert 'class="chip"' not in html and 'id="active-filters"' not in html


def test_chips_are_not_a_query_per_value(client, partners, viewer):
    def make(n):
        for _ in range(n):
            agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
            ProvisionFactory(agreement=agreement)

    url = (
        "/agreements/?party=United States,PHL&organization=NATO&type=dca,training,sofa"
        "&status=in_force,signed&category=training&page_size=200"
    )
    make(1)
    one = queries(client, viewer, url)
    make(99)
    assert queries(client, viewer, url) == one


# Sorting ------------------------------------------------------------------------------------


def headings(html: str) -> dict[str, str]:
    """The sortable headings by label, each with its aria-sort ("" when none)."""
    found = {}
    for attrs, label in re.findall(
        r'<th scope="col" class="sortable[^"]*"([^>]*)><a href="[^"]*">([^<]+?) <', html
    ):
        sort = re.search(r'aria-sort="(\w+)"', attrs)
        found[label] = sort.group(1) if sort else ""
    return found


def test_headings_show_the_order_and_sort_reference_status_and_type(client, partners, analyst):
    for reference, status in [("B", "in_force"), ("A", "expired"), ("C", "draft")]:
        AgreementFactory(
            reference=reference,
            title=f"Accord {reference}",
            status=status,
            signed_on=datetime.date(2010, 1, 1),
        )
    html = page(client, analyst, "/agreements/")
    assert headings(html) == {
        "Reference": "",
        "Title": "",
        "Type": "",
        "Status": "",
        "Signed": "descending",  # the list's own order when none is asked for
        "Expires": "",
        "Next review": "",
    }
    assert '<th scope="col" class="unsorted">Parties</th>' in html
    html = page(client, analyst, "/agreements/?ordering=status")
    assert headings(html)["Status"] == "ascending"
    assert "?ordering=-status" in html and "(sort descending)" in html
    assert html.index(">C<") < html.index(">B<") < html.index(">A<")  # draft, in force, expired
    assert "sorted by status, ascending" in html
    html = page(client, analyst, "/agreements/?ordering=-reference")
    assert headings(html)["Reference"] == "descending"
    assert html.index(">C<") < html.index(">B<") < html.index(">A<")
    # Ranked by relevance: no column is the order.
    html = page(client, analyst, "/agreements/?q=accord")
    assert "3 agreements match" in html and set(headings(html).values()) == {""}


# The year chart -----------------------------------------------------------------------------

INTERACTIVE = {"a", "button", "input", "select", "textarea", "details", "summary"}
PRESENTATIONAL_CHILDREN = {"img", "button", "checkbox", "radio", "tab", "option", "link"}


class NestingCheck(HTMLParser):
    """Interactive elements inside another interactive element, or inside a role whose
    children are presentational (role="img"): what axe calls nested-interactive."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "rect", "line", "path", "circle"}

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        interactive = tag in INTERACTIVE and (tag != "a" or "href" in attrs)
        if interactive and any(flag for _tag, flag in self.stack):
            self.problems.append(f"<{tag}> inside {[t for t, f in self.stack if f]}")
        container = interactive or attrs.get("role") in PRESENTATIONAL_CHILDREN
        if tag not in self.VOID:
            self.stack.append((tag, container and tag not in ("details",)))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def test_year_chart_has_a_scale_year_labels_and_one_link_per_bar(client, world, analyst):
    html = page(client, analyst, "/")
    chart = html[html.index('<figure class="year-chart"') : html.index("</figure>")]
    assert 'role="img"' not in chart
    links = re.findall(r"<a ([^>]*)>", chart)
    assert links and all('aria-label="' in attrs and 'href="' in attrs for attrs in links)
    assert re.findall(r'aria-label="(\d{4}: \d+ agreements?)"', chart)
    scale = re.search(r'<ul class="y-axis" aria-hidden="true">(.*?)</ul>', chart).group(1)
    assert re.findall(r"<li>(\d+)</li>", scale) == ["2", "1", "0"]  # one a year in the world
    years = [int(y) for y in re.findall(r"<li><span>(\d{4})</span></li>", chart)]
    assert 2 <= len(years) <= 8
    assert len({b - a for a, b in zip(years, years[1:], strict=False)}) == 1  # evenly spaced
    check = NestingCheck()
    check.feed(html)
    assert check.problems == []


def test_the_nesting_check_finds_a_link_in_an_image():
    check = NestingCheck()
    check.feed('<svg role="img"><a href="/x"><rect/></a></svg><a href="/"><button>b</button></a>')
    assert len(check.problems) == 2


@pytest.mark.parametrize(
    "counts, scale, labels",
    [
        ({2000: 1}, 2, ["2000"]),
        ({1939: 3, 2026: 7}, 8, ["1940", "1960", "1980", "2000", "2020"]),
        ({2001: 4, 2010: 2}, 4, ["2002", "2004", "2006", "2008", "2010"]),
    ],
)
def test_year_columns_scale_and_labels(counts, scale, labels):
    chart = year_columns(counts, lambda year: f"/y/{year}")
    assert chart.scale == scale and chart.y_labels == [scale, scale // 2, 0]
    assert [label for _year, label in chart.years if label] == labels
    assert len(chart.years) == max(counts) - min(counts) + 1
    tallest = max(chart.columns, key=lambda c: c.value)
    assert tallest.height == pytest.approx(chart.height * tallest.value / scale)


def test_the_secret_year_is_not_charted_for_the_viewer(client, world, viewer):
    html = page(client, viewer, "/")
    chart = html[html.index('<figure class="year-chart"') : html.index("</figure>")]
    assert "1977" not in chart and SECRET_TITLE not in html
