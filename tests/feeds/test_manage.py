"""Feed management without the bot: checked adds, OPML import and export with titles, hostile OPML refused."""

from __future__ import annotations

import pytest

from feeds import manage, store
from feeds.opml import OpmlError, parse_opml
from feeds.settings import FetchSettings
from tests.helpers.fault_server import FaultServer

OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>My subscriptions</title></head><body>
  <outline text="World" title="World">
    <outline type="rss" text="BBC World" title="BBC World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml" htmlUrl="https://www.bbc.co.uk/news/world"/>
    <outline type="rss" text="Al Jazeera" xmlURL="https://www.aljazeera.com/xml/rss/all.xml"/>
  </outline>
  <outline type="rss" text="Local file" xmlUrl="/etc/passwd"/>
  <outline type="rss" title="Duplicate" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
</body></opml>"""


def test_opml_import_keeps_titles_and_round_trips(feeds_db):
    result = manage.import_opml(feeds_db, OPML)
    assert [(f["url"], f["title"]) for f in result.added] == [
        ("https://feeds.bbci.co.uk/news/world/rss.xml", "BBC World"), ("https://www.aljazeera.com/xml/rss/all.xml", "Al Jazeera")]
    assert result.invalid == ["/etc/passwd"]
    again = manage.import_opml(feeds_db, OPML)
    assert not again.added and len(again.existing) == 2

    exported = manage.export_opml(feeds_db)
    assert [(o.url, o.title) for o in parse_opml(exported)] == [(f["url"], f["title"]) for f in result.added]


@pytest.mark.parametrize("data, message", [
    (b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;'>]><opml><body>&lol2;</body></opml>", "entities or a DTD"),
    (b"<rss><channel></channel></rss>", "root element is <rss>"),
    (b"<opml><body><outline", "not well-formed"),
    (b"\x00\x01binary", "not well-formed"),
])
def test_bad_opml_is_refused_with_a_reason(data, message):
    with pytest.raises(OpmlError, match=message):
        parse_opml(data)


async def test_add_checks_the_feed_first(feeds_db):
    settings = FetchSettings(connect_timeout_s=2, read_timeout_s=1, total_timeout_s=3)
    async with FaultServer(bomb_mb=1, big_mb=1) as server:
        feed, check, new = await manage.add_checked(feeds_db, server.url("ok"), "", settings)
        assert new and feed["title"] == "Fine" and check.entries == 1
        _, _, new = await manage.add_checked(feeds_db, server.url("ok"), "", settings)
        assert not new
        for path, reason in (("html", "is not an RSS/Atom feed"), ("500", "cannot fetch"), ("hang", "timed out")):
            with pytest.raises(manage.NotAFeed, match=reason):
                await manage.add_checked(feeds_db, server.url(path), "", settings)
    with pytest.raises(manage.NotAFeed, match="not an http"):
        await manage.check_feed("/etc/passwd", settings)
    assert len(store.list_feeds(feeds_db)) == 1
    rows = manage.status_rows(feeds_db)
    assert rows[0]["state"] == "new" and rows[0]["today"] == 0
