"""``geobrief feeds …``: thin wrappers over feeds/ (the same operations as the admin's chat commands)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from .cli_common import CliError, _db, _settings, command

# ---- feeds --------------------------------------------------------------------------------------

def cmd_feeds_list(args) -> int:
    from feeds import manage

    settings = _settings(args)
    rows = manage.status_rows(_db(settings), settings.feeds)
    print(f"{'id':>4}  {'state':8} {'last success':17} {'today':>5}  title / url / last error")
    for r in rows:
        when = (r["last_success_at"] or "never")[:16].replace("T", " ")
        print(f"{r['id']:>4}  {r['state']:8} {when:17} {r['today']:>5}  {r['title'] or '-'}  <{r['url']}>")
        if r["state"] == "disabled":
            print(f"{'':>6}disabled: {r['disabled_reason'] or 'by an admin'}  (geobrief feeds enable {r['id']})")
        elif r["last_error"]:
            print(f"{'':>6}{r['consecutive_errors']} failure(s), last: {r['last_error']}")
        if r["rules"].custom:
            print(f"{'':>6}{r['rules'].describe()}")
    return 0


def cmd_feeds_add(args) -> int:
    from feeds import manage

    settings = _settings(args)
    db = _db(settings)
    try:
        feed, check, new = asyncio.run(manage.add_checked(db, args.url, args.title or "", settings.feeds.fetch, allow_files=True))
    except manage.NotAFeed as exc:
        raise CliError(str(exc)) from None
    print(f"{'added' if new else 'already present'}: #{feed['id']} {feed['title'] or feed['url']} ({check.entries} entries)")
    return 0


def _change_feed(args, change, done: str) -> int:
    """Apply ``change(db, feed_id)`` from feeds.store; an unknown feed is a one-line error."""
    from feeds import store

    db = _db(_settings(args))
    try:
        feed = change(db, args.id)
    except store.FeedNotFound as exc:
        raise CliError(str(exc)) from None
    print(f"{done} #{feed['id']} {feed['title'] or feed['url']}")
    return 0


def cmd_feeds_remove(args) -> int:
    from feeds import store

    return _change_feed(args, store.remove_feed, "removed")


def cmd_feeds_enable(args) -> int:
    from feeds import store

    return _change_feed(args, store.enable_feed, "enabled")


def _words(text: str | None) -> list[str] | None:
    from feeds.filters import split_entries

    return None if text is None else split_entries(text)


def cmd_feeds_filter(args) -> int:
    from feeds import manage, store
    from feeds.filters import feed_rules

    settings = _settings(args)
    db = _db(settings)
    try:
        if args.include is not None or args.exclude is not None or args.min_relevance is not None or args.clear:
            manage.set_filters(db, args.id, _words(args.include), _words(args.exclude), args.min_relevance, args.clear)
        feed = store.get_feed(db, args.id)
    except (store.FeedNotFound, ValueError) as exc:
        raise CliError(str(exc)) from None
    print(f"#{feed['id']} {feed['title'] or feed['url']}: {feed_rules(feed, settings.feeds).describe()}")
    return 0


def cmd_feeds_import_opml(args) -> int:
    from feeds import manage
    from feeds.opml import OpmlError

    db = _db(_settings(args))
    try:
        result = manage.import_opml(db, Path(args.file).read_bytes())
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    except OpmlError as exc:
        raise CliError(f"{args.file}: {exc}") from None
    print(f"imported {len(result.added)} feed(s); {len(result.existing)} already present; {len(result.invalid)} skipped (no http(s) URL)")
    return 0


def cmd_feeds_export_opml(args) -> int:
    from feeds import manage

    data = manage.export_opml(_db(_settings(args)))
    if args.output in (None, "-"):
        sys.stdout.write(data.decode("utf-8") + "\n")
    else:
        Path(args.output).write_bytes(data)
        print(f"wrote {args.output}")
    return 0


def register(sub) -> None:
    feeds = command(sub, "feeds", lambda a: 0, "List, add, remove, re-enable feeds; OPML import and export", "geobrief feeds list")
    fsub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    command(fsub, "list", cmd_feeds_list, "Each feed's state, last success, items today and last error", "geobrief feeds list")
    p = command(fsub, "add", cmd_feeds_add, "Fetch and parse a feed, then add it", "geobrief feeds add https://feeds.bbci.co.uk/news/world/rss.xml --title 'BBC World'")
    p.add_argument("url", help="http(s) URL (or a local file) of an RSS/Atom feed")
    p.add_argument("--title", help="display name (default: the feed's own title)")
    p = command(fsub, "remove", cmd_feeds_remove, "Stop polling a feed (its articles stay)", "geobrief feeds remove 3")
    p.add_argument("id", type=int, help="feed number, as `geobrief feeds list` shows it")
    p = command(fsub, "enable", cmd_feeds_enable, "Re-enable a disabled feed and forget its failures", "geobrief feeds enable 3")
    p.add_argument("id", type=int, help="feed number, as `geobrief feeds list` shows it")
    p = command(fsub, "filter", cmd_feeds_filter, "Show or set a feed's include/exclude words and relevance threshold (config.toml's stay too)",
                "geobrief feeds filter 3 --exclude 'football, /celebrit(y|ies)/' --min-relevance 0.2")
    p.add_argument("id", type=int, help="feed number, as `geobrief feeds list` shows it")
    p.add_argument("--include", metavar="WORDS", help="comma-separated words, phrases or /regex/: keep only items matching one ('' clears)")
    p.add_argument("--exclude", metavar="WORDS", help="comma-separated words, phrases or /regex/: drop items matching any ('' clears)")
    p.add_argument("--min-relevance", type=float, metavar="X", help="this feed's relevance threshold, 0-1 (0 keeps everything; -1: the global one)")
    p.add_argument("--clear", action="store_true", help="drop the filters set here first")
    p = command(fsub, "import-opml", cmd_feeds_import_opml, "Add every feed of an OPML file, keeping titles", "geobrief feeds import-opml subscriptions.opml")
    p.add_argument("file", help="OPML file to read")
    p = command(fsub, "export-opml", cmd_feeds_export_opml, "Write the feed list as OPML", "geobrief feeds export-opml -o feeds.opml")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
