"""Parsed lxml documents kept in a module-level dict, most of their memory outside Python's heap.

Models a feed aggregator that parses each fetched XML document with lxml and keeps the parsed tree in a dict keyed by
the feed URL plus the fetch time "so the next step can query it with XPath", and never drops old fetches. An lxml tree
is a libxml2 document in C memory; Python sees only thin proxies (an ``_ElementTree`` and the ``_Element`` it was
parsed to, with the ``_Document`` behind them), so the heap gains a few small objects per document while the
process's RSS grows by the whole parsed document (every node, attribute and text in libxml2's allocations). A
heap-only view understates it, but the holder is still an ordinary dict in the program.

A right diagnosis names the program's dict ``sys.modules['__main__'].parsed_feeds`` as the growing container (and,
ideally, notes that RSS grows much more than the Python objects it sees). The remedy: keep the extracted values
(titles, links) and let the tree go, or bound the dict to the latest fetch per feed.
"""
# verdict: leak
# kinds: growing-container
# holder: sys.modules['__main__'].parsed_feeds

import io

from lxml import etree

from rounds import run

ITEM = ("<item id='%d'><title>Headline number %d about topic %d</title><link>https://news.invalid/a/%d</link>"
        "<description>Some text for item %d, long enough to look like a summary of an article.</description>"
        "<category>c%d</category></item>")
parsed_feeds = {}


def fetch(n):
    body = "<rss version='2.0'><channel><title>feed %d</title>%s</channel></rss>" % (
        n % 40, "".join(ITEM % (n * 100 + i, i, i % 7, i, i, i % 5) for i in range(60)))
    tree = etree.parse(io.BytesIO(body.encode()))
    titles = tree.xpath("//item/title/text()")
    parsed_feeds["https://feeds.invalid/%d@%d" % (n % 40, n)] = tree  # the bug: every fetch kept
    return len(titles)


run(fetch, 150)
