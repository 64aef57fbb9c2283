# bench: "cpu", a CPU-bound page (issue 18): about 2 ms of Python per
# request on the benchmark machine, all of it holding the GIL, and no I/O.
# A generated catalogue of ROWS items is rendered twice, as an HTML table
# (string.Template per row, str.format for the page) and as the JSON of the
# same structure (json.dumps) embedded in the page.  Everything is made
# anew on each request: nothing is cached between requests, so every one
# pays for all of it.  The body is deterministic (no clock, no randomness,
# sorted keys, the same on every Python 3), so bench/pool.py computes it
# once with render() from this file and checks each server's answer by
# its length and sha256, as bench/run.py checks its scenarios.
# Standard library only, and only modules that load in an interpreter
# with its own GIL (json's and re's C parts are multi-phase).
import json
from string import Template

# Items per page: sets the work per request (about 2 ms under Python 3.13
# on the 2-core benchmark VM; the page is about 48 KB).
ROWS = 110

ROW = Template('<tr class="$parity"><td>$id</td><td><a href="/item/$slug">'
               '$name</a></td><td>$price</td><td>$stock</td>'
               '<td>$tags</td></tr>\n')
PAGE = ("<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n"
        "<body><h1>{title}</h1>\n<p>{count} items, {total} in stock, "
        "{value} total value</p>\n<table>\n{rows}</table>\n"
        '<script type="application/json" id="data">{data}</script>\n'
        "</body></html>\n")
WORDS = ("amber", "basalt", "cedar", "dune", "ember", "fjord", "granite",
         "harbor", "indigo", "juniper", "kelp", "lagoon", "marble", "nectar",
         "onyx", "pewter", "quartz", "russet", "sienna", "tundra")


def catalogue():
    """ROWS items, each a dict, from integer arithmetic alone."""
    items = []
    for i in range(ROWS):
        x = (i * 2654435761 + 12345) % 1000003
        name = "%s %s %d" % (WORDS[x % 20].title(), WORDS[(x // 20) % 20],
                             x % 997)
        items.append({
            "id": i,
            "name": name,
            "slug": name.lower().replace(" ", "-"),
            "price_cents": 100 + x % 99900,
            "stock": (x >> 3) % 50,
            "tags": sorted({WORDS[(x >> k) % 20] for k in range(0, 24, 4)}),
            "dims": {"w": x % 91, "h": x % 67, "d": x % 43},
        })
    return items


def render():
    items = catalogue()
    rows = []
    for item in items:
        rows.append(ROW.substitute(
            parity="odd" if item["id"] % 2 else "even",
            id=item["id"], slug=item["slug"], name=item["name"],
            price="{:,.2f}".format(item["price_cents"] / 100),
            stock=item["stock"], tags=", ".join(item["tags"])))
    total = sum(item["stock"] for item in items)
    value = sum(item["stock"] * item["price_cents"] for item in items)
    data = json.dumps({"items": items, "count": len(items)},
                      sort_keys=True, indent=1)
    return PAGE.format(title="Catalogue", count=len(items), total=total,
                       value="{:,.2f}".format(value / 100),
                       rows="".join(rows),
                       data=data.replace("<", "\\u003c")).encode("utf-8")


def application(environ, start_response):
    body = render()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
