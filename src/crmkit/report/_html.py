"""HTML building blocks of the report: page, sections, tables, key figures, inline SVG."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmkit._display import escape, format_value

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FigureMaker", "cards", "data_table", "note", "page", "section"]

_CSS = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa;
        --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; font-size: 15px; line-height: 1.5; }
header { background: var(--soft); border-bottom: 1px solid var(--line); padding: 24px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 26px; }
header p { margin: 0; color: var(--muted); }
nav { padding: 8px 32px; border-bottom: 1px solid var(--line); font-size: 14px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; white-space: nowrap; }
main { padding: 8px 32px 32px 32px; max-width: 1200px; }
section { margin-top: 28px; }
h2 { font-size: 20px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin-bottom: 4px; }
.lead { color: var(--muted); margin-top: -4px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px;
        min-width: 170px; background: #fff; }
.card .value { font-size: 22px; font-weight: 600; }
.card .label { color: var(--muted); font-size: 13px; }
.figures { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure { margin: 8px 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px;
         background: #fff; flex: 1 1 420px; max-width: 620px; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
table.data { border-collapse: collapse; margin: 8px 0 12px 0; font-size: 13.5px; }
table.data th { text-align: left; border-bottom: 2px solid var(--line); padding: 4px 10px;
                background: var(--soft); }
table.data td { border-bottom: 1px solid #eaeef2; padding: 3px 10px; vertical-align: top; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
.note { border-left: 4px solid #d4a72c; background: #fff8e5; padding: 8px 12px;
        margin: 8px 0; font-size: 14px; }
.omitted { border-left-color: var(--line); background: var(--soft); color: var(--muted); }
footer { color: var(--muted); font-size: 13px; padding: 16px 32px;
         border-top: 1px solid var(--line); }
@media print { nav { display: none; } figure { break-inside: avoid; } }
"""

#: Checks that every figure rendered with a non-zero size and records the
#: outcome on <body> (``data-figures`` and ``data-render``), for people and
#: for the headless-browser test.
_SCRIPT = """
(function () {
  var figures = document.querySelectorAll("figure svg");
  var bad = [];
  for (var i = 0; i < figures.length; i++) {
    var box = figures[i].getBoundingClientRect();
    if (!(box.width > 0 && box.height > 0)) { bad.push(figures[i].parentNode.id || i); }
  }
  document.body.setAttribute("data-figures", String(figures.length));
  document.body.setAttribute("data-render", bad.length ? "failed: " + bad.join(" ") : "ok");
})();
"""


def section(anchor: str, title: str, body: str, lead: str | None = None) -> str:
    """One report section with an anchor for the table of contents.

    Parameters
    ----------
    anchor : str
        The section's id (letters, digits and dashes).
    title : str
        Heading.
    body : str
        HTML of the content.
    lead : str, optional
        One line under the heading.

    Returns
    -------
    str

    Examples
    --------
    >>> section("base", "The base", "<p>x</p>")
    '<section id="base"><h2>The base</h2><p>x</p></section>'
    """
    intro = f'<p class="lead">{escape(lead)}</p>' if lead else ""
    return f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>{intro}{body}</section>'


def note(text: str, *, omitted: bool = False) -> str:
    """A highlighted note (``omitted=True``: a section left out, and why).

    Parameters
    ----------
    text : str
        The note (escaped).
    omitted : bool, default=False
        Style it as an omitted-section note.

    Returns
    -------
    str

    Examples
    --------
    >>> note("no <feedback>", omitted=True)
    '<div class="note omitted">no &lt;feedback&gt;</div>'
    """
    cls = "note omitted" if omitted else "note"
    return f'<div class="{cls}">{escape(text)}</div>'


def cards(items: Sequence[tuple[str, str]]) -> str:
    """Key figures as cards: (label, formatted value) pairs.

    Parameters
    ----------
    items : sequence of (str, str)
        Label and already formatted value (both escaped here).

    Returns
    -------
    str

    Examples
    --------
    >>> cards([("customers", "2,357")])  # doctest: +ELLIPSIS
    '<div class="cards"><div class="card"><div class="value">2,357</div>...customers</div>...'
    """
    parts = [
        f'<div class="card"><div class="value">{escape(v)}</div>'
        f'<div class="label">{escape(k)}</div></div>'
        for k, v in items
    ]
    return '<div class="cards">' + "".join(parts) + "</div>"


def data_table(
    frame: pd.DataFrame,
    *,
    formats: dict[str, Callable[[Any], str]] | None = None,
    index: bool = True,
    index_label: str | None = None,
) -> str:
    """An HTML table of a data frame (every cell escaped; numbers right-aligned).

    Parameters
    ----------
    frame : DataFrame
        The rows.
    formats : dict of str to callable, optional
        Per column, a function giving a cell's text (e.g. a percentage).
    index : bool, default=True
        Show the index as the first column.
    index_label : str, optional
        Its heading (default the index name).

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"share": [0.5]}, index=pd.Index(["<a>"], name="group"))
    >>> data_table(t, formats={"share": "{:.0%}".format})  # doctest: +ELLIPSIS
    '...<th>group</th><th>share</th>...<td>&lt;a&gt;</td><td class="num">50%</td>...'
    """
    formats = formats or {}
    head = ([index_label or str(frame.index.name or "")] if index else []) + [
        str(c) for c in frame.columns
    ]
    rows = []
    for label, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        cells = [f"<td>{format_value(label)}</td>"] if index else []
        for col, value in zip(frame.columns, row, strict=True):
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            numeric = numeric or type(value).__module__ == "numpy"
            text = escape(formats[col](value)) if col in formats else format_value(value)
            cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return (
        f'<div class="scroll"><table class="data"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^")]+)')


class FigureMaker:
    """Draws figures with matplotlib and returns them as inline SVG ``<figure>`` elements.

    Each figure gets its own id prefix, so the ids inside the SVGs (clip
    paths, markers) never collide in one page. Output is deterministic: no
    date in the metadata, fixed hash salt.

    Examples
    --------
    >>> maker = FigureMaker()
    >>> html = maker.draw(lambda ax: ax.plot([0, 1], [1, 0]), "A line")
    >>> html.startswith('<figure id="fig-1">') and "<svg" in html and "A line" in html
    True
    """

    def __init__(self) -> None:
        self.count = 0

    def draw(
        self,
        plot: Callable[[Axes], Any],
        caption: str,
        *,
        size: tuple[float, float] = (6.4, 4.0),
    ) -> str:
        """Draw ``plot(ax)`` on a new figure and return the ``<figure>`` HTML.

        Parameters
        ----------
        plot : callable
            Draws on the axes it is given.
        caption : str
            Figure caption (escaped).
        size : (float, float), default=(6.4, 4.0)
            Figure size, inches.

        Returns
        -------
        str

        Examples
        --------
        See :class:`FigureMaker`.
        """
        from matplotlib.figure import Figure

        self.count += 1
        fig = Figure(figsize=size)
        plot(fig.subplots())
        svg = self._svg(fig, f"f{self.count}-")
        return (
            f'<figure id="fig-{self.count}">{svg}'
            f"<figcaption>{escape(caption)}</figcaption></figure>"
        )

    @staticmethod
    def _svg(fig: Figure, prefix: str) -> str:
        import matplotlib as mpl

        buf = io.StringIO()
        with mpl.rc_context(
            {"svg.fonttype": "none", "svg.hashsalt": "crmkit-report", "font.size": 9.0}
        ):
            fig.savefig(
                buf, format="svg", metadata={"Date": None}, bbox_inches="tight", pad_inches=0.08
            )
        text = buf.getvalue()
        start = text.find("<svg")
        text = text[start:] if start >= 0 else text
        text = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', text)
        return _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", text)


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str, str]], footer: str) -> str:
    """The whole self-contained HTML document.

    Parameters
    ----------
    title, subtitle : str
        Header lines (escaped).
    sections : sequence of (anchor, title, html)
        The sections, in order (their titles make the navigation bar).
    footer : str
        Footer text (escaped).

    Returns
    -------
    str

    Examples
    --------
    >>> doc = page("Report", "as of 2024", [("a", "A", "<section id='a'></section>")], "x")
    >>> doc.startswith("<!DOCTYPE html>") and 'href="#a"' in doc
    True
    """
    links = "".join(f'<a href="#{escape(a)}">{escape(t)}</a>' for a, t, _ in sections)
    body = "".join(html for _, _, html in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f'<body data-render="pending"><header><h1>{escape(title)}</h1>'
        f"<p>{escape(subtitle)}</p></header><nav>{links}</nav><main>{body}</main>"
        f"<footer>{escape(footer)}</footer><script>{_SCRIPT}</script></body></html>\n"
    )
