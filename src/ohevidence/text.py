"""Small text helpers shared by the stages: inline markup and entities, author names, years."""

from __future__ import annotations

import html
import re

from ohevidence.cells import clean_text
from ohevidence.textfile import read_text as read_text  # re-exported: importers read files with it

# Inline markup PubMed keeps inside text elements (Bio.Entrez returns it as literal tags);
# Scopus/Embase exports write subscripts as <inf>.
_INLINE_TAG = re.compile(r"</?(?:i|b|u|sup|sub|inf|mml:[A-Za-z]+)(?:\s[^<>]*)?/?>")
_INLINE_ANY = re.compile(
    r"</?(?:[A-Za-z]+:)?(?:i|b|u|em|strong|italic|bold|underline|sup|sub|inf|sc|monospace|span|a|"
    r"inline-formula|named-content|styled-content)(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_ANY_TAG = re.compile(r"<[^<>]+>")
_INITIALS_TOKEN = re.compile(r"^(?:[A-Z]\.?){1,4}$")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def strip_inline_markup(text: object) -> str:
    """Drop PubMed inline tags (<i>, <sup>, MathML ...) and collapse whitespace."""
    return clean_text(_INLINE_TAG.sub("", clean_text(text)))


def strip_tags(text: object) -> str:
    """Remove every XML/HTML tag, then unescape entities (for Crossref/JATS fields).

    Inline tags (italic, sup ...) vanish; block tags (p, sec ...) become a space.
    """
    value = "" if text is None else str(text)
    value = _ANY_TAG.sub(" ", _INLINE_ANY.sub("", value))
    return clean_text(html.unescape(value))


def plain_text(text: str) -> str:
    """Free text without inline markup: tags such as <sup>, <inf> or <i> dropped, HTML entities
    decoded ('Wilson&rsquo;s' -> "Wilson's"), a typographic apostrophe made plain. Unlike
    :func:`strip_tags`, a bare '<' or '>' of the text ('p < 0.05') is kept."""
    if "<" in text or "&" in text:
        text = html.unescape(_INLINE_ANY.sub("", text))
    return text.replace("\u2019", "'")


def initials(given: object) -> str:
    """'Kate A.' -> 'KA'; 'Jean-Paul' -> 'JP'; 'GH' -> 'GH'."""
    text = clean_text(given)
    if not text:
        return ""
    out = []
    for token in re.split(r"[\s.\-]+", text):
        if not token:
            continue
        if token.isupper() and token.isalpha() and len(token) <= 3:
            out.append(token)  # already initials, e.g. 'GH'
        else:
            out.append(token[0].upper())
    return "".join(out)


def author_name(family: object, given: object = "", initials_text: object = "") -> str:
    """'Family, Initials' from parts; just 'Family' when there are no initials."""
    family_text = clean_text(family)
    inits = clean_text(initials_text).replace(".", "").replace(" ", "") or initials(given)
    if not family_text:
        return clean_text(given)
    return f"{family_text}, {inits}" if inits else family_text


def normalise_author(text: object) -> str:
    """Turn 'Family, Given', 'Family, G.', 'Family GH' or 'Family G.H.' into 'Family, GH'.

    A name without a comma whose last word does not look like initials is kept as
    written (it is most likely a collective name).
    """
    value = clean_text(text)
    if not value:
        return ""
    if "," in value:
        family, _, given = value.partition(",")
        return author_name(family, given)
    parts = value.split(" ")
    if len(parts) >= 2 and _INITIALS_TOKEN.match(parts[-1]):
        return author_name(" ".join(parts[:-1]), initials_text=parts[-1])
    return value


def first_year(*values: object) -> str:
    """First four-digit year (1800-2099) found in the values.

    When none holds one, the first non-empty value as given ('2150', 'n.d.'), so that
    :func:`~ohevidence.records.make_record` reports it instead of it vanishing here; else ''.
    """
    texts = [clean_text(value) for value in values]
    for text in texts:
        match = _YEAR.search(text)
        if match:
            return match.group(1)
    return next((text for text in texts if text), "")


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines as an editor counts them: split at CR LF, LF or CR only.

    :meth:`str.splitlines` also splits at a vertical tab, form feed, the information
    separators and NEL, which can sit inside a field: they would cut it in two and shift
    every line number after them. A final line break does not make an empty last line.
    """
    lines = _LINE_BREAK.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines
