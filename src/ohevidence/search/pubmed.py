"""PubMed efetch XML (``PubmedArticleSet``) to records.

Journal articles (``PubmedArticle``) and Bookshelf documents (``PubmedBookArticle``,
the form NIHR Journals Library reports take in PubMed) are both read. Parsing is
all-or-nothing: a file that is not well-formed or not a ``PubmedArticleSet`` raises
:class:`~ohevidence.errors.InputError` and yields no records.

Bio.Entrez validates against the DTD named in the DOCTYPE and would download a DTD it
does not bundle; to keep parsing offline and deterministic such files (and files with
no DOCTYPE) are read against the newest bundled PubMed DTD without strict validation.
Errors found after that rewrite are reported at the line and column of the user's file.
A DOCTYPE with an internal subset (entity declarations: never in PubMed's output, the
vehicle of XXE and entity-expansion attacks) is refused before anything is expanded.

The whole document is handed to expat in one call (:func:`entrez_read`): Bio.Entrez's
own reader feeds it 2 KB at a time, and expat before 2.6 rescans an unfinished token from
its start on every feed, so one multi-megabyte token (an attribute value, a comment)
took minutes (CVE-2023-52425); in one call every token is scanned once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

from Bio.Entrez import Parser as EntrezParser

from ohevidence.cells import clean_text, join_multi
from ohevidence.errors import InputError
from ohevidence.ingest import reports_problems
from ohevidence.records import find_registry_ids, make_record
from ohevidence.text import author_name, first_year, strip_inline_markup

__all__ = ["entrez_read", "parse_pubmed_xml", "parse_pubmed_xml_bytes"]

_ROOT = "PubmedArticleSet"
_DOCTYPE = re.compile(rb"<!DOCTYPE\s+(\w+)\s+(?:PUBLIC\s+\"[^\"]*\"|SYSTEM)\s+\"([^\"]+)\"\s*>", re.DOTALL)
_BOM = b"\xef\xbb\xbf"
_XML_DECL = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*\?>")
_DTD_NAME = re.compile(r"pubmed_(\d{6})\.dtd")


@reports_problems
def parse_pubmed_xml(path: str | Path, *, source: str = "pubmed", search_id: str) -> list[dict[str, str]]:
    """Records from a PubMed efetch XML file (one record per article or book document)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror or exc}") from exc
    return parse_pubmed_xml_bytes(data, name=str(path), source=source, search_id=search_id)


def parse_pubmed_xml_bytes(
    data: bytes, *, name: str, source: str = "pubmed", search_id: str
) -> list[dict[str, str]]:
    """Records from efetch XML held in memory; ``name`` is used in error messages."""
    root = _check_well_formed(data, name)
    errors = _ncbi_errors(data) if root != _ROOT else []
    if errors or root in ("ERROR", "eFetchResult"):
        message = "; ".join(errors) or _error_text(data)
        raise InputError(name, f"NCBI returned an error document: {message}", expected=_ROOT)
    if root != _ROOT:
        raise InputError(name, f"root element is <{root}>, not a PubMed article set", line=1, expected=_ROOT)
    rewritten, validate, rewrite = _offline_doctype(data)
    try:
        parsed = entrez_read(rewritten, validate=validate)
    except EntrezXMLError as exc:
        line, column = _position(data, rewrite.user_offset(exc.byte_index))
        raise InputError(
            name, f"malformed PubMed XML ({exc.message}, column {column})", line=line, expected=_ROOT
        ) from None
    except EntrezParser.ValidationError as exc:
        raise InputError(name, f"element <{exc.name}> is not in the PubMed DTD", expected=_ROOT) from exc
    except (RuntimeError, ValueError) as exc:
        raise InputError(name, f"cannot be read as PubMed XML: {exc}", expected=_ROOT) from exc
    records: list[dict[str, str]] = []
    for index, article in enumerate(parsed.get("PubmedArticle", []), start=1):
        _require(article, "MedlineCitation", f"PubmedArticle {index}", name)
        records.append(_article_record(article, source=source, search_id=search_id))
    for index, book in enumerate(parsed.get("PubmedBookArticle", []), start=1):
        _require(book, "BookDocument", f"PubmedBookArticle {index}", name)
        records.append(_book_record(book, source=source, search_id=search_id))
    return records


def _require(element: Mapping[str, Any], child: str, what: str, name: str) -> None:
    if child not in element:
        raise InputError(name, f"{what} has no <{child}>", expected=f"<{child}> in every article")


# ---------------------------------------------------------------------------
# Reading with Bio.Entrez, in one expat call
# ---------------------------------------------------------------------------
class EntrezXMLError(Exception):
    """expat stopped inside :func:`entrez_read`: its message and the byte offset it stopped at."""

    def __init__(self, message: str, byte_index: int) -> None:
        super().__init__(message)
        self.message = message
        self.byte_index = byte_index


def entrez_read(data: bytes, *, validate: bool = True) -> Any:
    """``Bio.Entrez.read`` of an in-memory document, parsed by expat in a single call.

    Same result and errors as ``Entrez.read(BytesIO(data), validate=validate)``, except
    that an expat error is :class:`EntrezXMLError` (with the byte offset), and that the
    time is linear in the size of the largest token (see the module docstring).
    """
    handler = EntrezParser.DataHandler(validate, False, False)
    try:
        handler.parser.Parse(data, True)
    except expat.ExpatError as exc:
        message = expat.errors.messages[exc.code] if exc.code else str(exc)
        raise EntrezXMLError(message, handler.parser.ErrorByteIndex) from None
    try:
        record = handler.record
    except AttributeError:  # Bio.Entrez: no XML declaration seen, or no element stored
        raise EntrezParser.NotXMLError("XML declaration not found") from None
    del record.key
    return record


# ---------------------------------------------------------------------------
# Well-formedness and DTD handling
# ---------------------------------------------------------------------------
def _check_well_formed(data: bytes, name: str) -> str:
    """Parse once with a plain (non-validating, offline) expat parser; return the root tag."""
    roots: list[str] = []
    parser = expat.ParserCreate()

    def start(tag: str, _attrs: Any) -> None:
        if not roots:
            roots.append(tag)

    def doctype(_name: str, _system: str | None, _public: str | None, internal_subset: int) -> None:
        if internal_subset:
            raise InputError(
                name,
                "the DOCTYPE declares an internal DTD subset ('[...]': entity or element "
                "declarations), which PubMed XML never has; it is not read",
                line=parser.CurrentLineNumber,
                expected='no DOCTYPE, or PubMed\'s <!DOCTYPE PubmedArticleSet PUBLIC ... "...dtd">',
            )

    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        message = expat.errors.messages[exc.code] if exc.code else str(exc)
        raise InputError(
            name,
            f"not well-formed XML ({message}, column {exc.offset + 1})",
            line=exc.lineno,
            expected="a complete PubMed efetch XML document",
        ) from exc
    if not roots:
        raise InputError(name, "no XML element found", expected=_ROOT)
    return roots[0]


def _bundled_pubmed_dtds() -> set[str]:
    dirs = [EntrezParser.DataHandler.global_dtd_dir, EntrezParser.DataHandler.local_dtd_dir]
    found: set[str] = set()
    for folder in dirs:
        if folder and Path(folder).is_dir():
            found.update(p.name for p in Path(folder).glob("*.dtd"))
    return found


@dataclass(frozen=True)
class _Rewrite:
    """Bytes [start, start + removed) of the user's file were replaced by ``added`` bytes."""

    start: int = 0
    removed: int = 0
    added: int = 0

    def user_offset(self, offset: int) -> int:
        """The offset in the user's file of ``offset`` in the rewritten data."""
        if offset < self.start:
            return offset
        if offset < self.start + self.added:
            return self.start  # inside the inserted DOCTYPE: report where it was put
        return offset - self.added + self.removed


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a byte offset; the column counts characters."""
    offset = max(0, min(offset, len(data)))
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _offline_doctype(data: bytes) -> tuple[bytes, bool, _Rewrite]:
    """Point the DOCTYPE at a bundled DTD so Bio.Entrez never goes online.

    Returns the (possibly rewritten) data, whether strict validation is safe, and the
    rewrite (to report error positions in the user's file).
    """
    bundled = _bundled_pubmed_dtds()
    match = _DOCTYPE.search(data[:4096])
    if match and match.group(1) == b"PubmedArticleSet":
        dtd = match.group(2).decode("ascii", "replace").rsplit("/", 1)[-1]
        if dtd in bundled:
            return data, True, _Rewrite()
    newest = max((n for n in bundled if _DTD_NAME.fullmatch(n)), key=lambda n: n[7:13])
    doctype = (
        b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle//EN" '
        b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/' + newest.encode() + b'">'
    )
    if match:
        rewrite = _Rewrite(match.start(), match.end() - match.start(), len(doctype))
        return data[: match.start()] + doctype + data[match.end() :], False, rewrite
    decl = _XML_DECL.match(data)
    if decl:  # Bio.Entrez needs the XML declaration: the DOCTYPE goes right after it
        insert, at = b"\n" + doctype + b"\n", decl.end()
    else:
        insert, at = b'<?xml version="1.0"?>\n' + doctype + b"\n", len(_BOM) if data.startswith(_BOM) else 0
    return data[:at] + insert + data[at:], False, _Rewrite(at, 0, len(insert))


def _ncbi_errors(data: bytes) -> list[str]:
    found = re.findall(rb"<ERROR>(.*?)</ERROR>", data, re.DOTALL)
    return [clean_text(m.decode("utf-8", "replace")) for m in found]


def _error_text(data: bytes) -> str:
    text = re.sub(rb"<[^>]+>", b" ", data[:2000]).decode("utf-8", "replace")
    return clean_text(text) or "no message"


# ---------------------------------------------------------------------------
# Field extraction
# ---------------------------------------------------------------------------
def _text(value: object) -> str:
    return strip_inline_markup(value) if value is not None else ""


def _attr(element: object, key: str) -> str:
    attributes = getattr(element, "attributes", None) or {}
    return str(attributes.get(key, ""))


def _ids(id_list: Iterable[object], id_type: str) -> list[str]:
    return [clean_text(i) for i in id_list if _attr(i, "IdType") == id_type]


def _elocations(locations: Iterable[object], kind: str) -> list[str]:
    return [clean_text(e) for e in locations if _attr(e, "EIdType") == kind]


def _abstract(abstract: Mapping[str, Any] | None) -> str:
    """Abstract text; structured sections keep their labels ('METHODS: ...')."""
    if not abstract:
        return ""
    parts = []
    for section in abstract.get("AbstractText", []):
        text = _text(section)
        label = clean_text(_attr(section, "Label"))
        if label and text:
            parts.append(f"{label}: {text}")
        elif text:
            parts.append(text)
    return " ".join(parts)


def _author_lists(value: Iterable[Any] | None) -> list[tuple[str, list[Any]]]:
    """(type, authors) pairs; Book documents may carry several typed AuthorLists."""
    if not value:
        return []
    items = list(value)
    if items and all(isinstance(i, list) for i in items):
        return [(_attr(i, "Type") or "authors", list(i)) for i in items]
    return [(_attr(value, "Type") or "authors", items)]


def _authors(*author_lists: Iterable[Any] | None) -> str:
    """'; '-joined 'Family, Initials' from the first author lists that name authors.

    Editors are used only when a document names no authors at all.
    """
    typed: list[tuple[str, list[Any]]] = []
    for value in author_lists:
        typed.extend(_author_lists(value))
    chosen = [a for kind, authors in typed if kind != "editors" for a in authors]
    if not chosen:
        chosen = [a for _kind, authors in typed for a in authors]
    names = []
    for author in chosen:
        if _attr(author, "ValidYN") == "N":
            continue
        if author.get("CollectiveName"):
            names.append(_text(author["CollectiveName"]))
        else:
            names.append(author_name(author.get("LastName"), author.get("ForeName"), author.get("Initials")))
    return join_multi(names)


def _registry_ids(databanks: Iterable[Mapping[str, Any]]) -> list[str]:
    found: list[str] = []
    for bank in databanks:
        bank_name = clean_text(bank.get("DataBankName")).lower()
        for number in bank.get("AccessionNumberList", []):
            value = clean_text(number)
            if "isrctn" in bank_name:
                digits = re.sub(r"\D", "", value)
                found.extend(find_registry_ids(f"ISRCTN{digits}"))
            elif "clinicaltrials" in bank_name:
                found.extend(find_registry_ids(value))
    return found


def _pages(pagination: Mapping[str, Any] | None, locations: Iterable[object]) -> str:
    pagination = pagination or {}
    if clean_text(pagination.get("MedlinePgn")):
        return clean_text(pagination["MedlinePgn"])
    start, end = clean_text(pagination.get("StartPage")), clean_text(pagination.get("EndPage"))
    if start:
        return f"{start}-{end}" if end else start
    others = [clean_text(e) for e in locations if _attr(e, "EIdType") in ("pii", "other")]
    return others[0] if others else ""


def _keywords(keyword_lists: Iterable[Iterable[object]]) -> str:
    return join_multi(_text(k) for group in keyword_lists for k in group)


def _date_year(date: Mapping[str, Any] | None) -> str:
    if not date:
        return ""
    return first_year(date.get("Year"), date.get("MedlineDate"))


def _article_record(article: Mapping[str, Any], *, source: str, search_id: str) -> dict[str, str]:
    citation = article["MedlineCitation"]
    art = citation.get("Article", {})
    journal = art.get("Journal", {})
    issue = journal.get("JournalIssue", {})
    pubmed_data = article.get("PubmedData", {})
    pmid = clean_text(citation.get("PMID"))
    locations = art.get("ELocationID", [])
    doi = (_ids(pubmed_data.get("ArticleIdList", []), "doi") + _elocations(locations, "doi") + [""])[0]
    title = _text(art.get("ArticleTitle")) or _text(art.get("VernacularTitle"))
    abstract = _abstract(art.get("Abstract"))
    article_dates = art.get("ArticleDate", [])
    year = _date_year(issue.get("PubDate")) or (_date_year(article_dates[0]) if article_dates else "")
    registry = _registry_ids(art.get("DataBankList", [])) + find_registry_ids(title, abstract)
    return make_record(
        source=source,
        search_id=search_id,
        source_id=pmid,
        pmid=pmid,
        doi=doi,
        title=title,
        abstract=abstract,
        authors=_authors(art.get("AuthorList")),
        journal=_text(journal.get("Title"))
        or _text(journal.get("ISOAbbreviation"))
        or _text(citation.get("MedlineJournalInfo", {}).get("MedlineTA")),
        year=year,
        volume=clean_text(issue.get("Volume")),
        issue=clean_text(issue.get("Issue")),
        pages=_pages(art.get("Pagination"), locations),
        publication_types=join_multi(art.get("PublicationTypeList", [])),
        mesh_terms=join_multi(h.get("DescriptorName") for h in citation.get("MeshHeadingList", [])),
        keywords=_keywords(citation.get("KeywordList", [])),
        registry_ids=join_multi(registry),
        language=join_multi(art.get("Language", [])),
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else "",
    )


def _book_record(article: Mapping[str, Any], *, source: str, search_id: str) -> dict[str, str]:
    document = article["BookDocument"]
    book = document.get("Book", {})
    pmid = clean_text(document.get("PMID"))
    id_list = list(document.get("ArticleIdList", [])) + list(
        article.get("PubmedBookData", {}).get("ArticleIdList", [])
    )
    locations = list(document.get("ELocationID", [])) + list(book.get("ELocationID", []))
    doi = (_ids(id_list, "doi") + _elocations(locations, "doi") + [""])[0]
    book_title = _text(book.get("BookTitle"))
    chapter_title = _text(document.get("ArticleTitle"))
    title = chapter_title or book_title or _text(document.get("VernacularTitle"))
    abstract = _abstract(document.get("Abstract"))
    # A chapter sits in its book; a whole report sits in its series (or, failing that, its publisher).
    journal = (
        (book_title if chapter_title else "")
        or _text(book.get("CollectionTitle"))
        or _text(book.get("Publisher", {}).get("PublisherName"))
    )
    return make_record(
        source=source,
        search_id=search_id,
        source_id=pmid,
        pmid=pmid,
        doi=doi,
        title=title,
        abstract=abstract,
        authors=_authors(document.get("AuthorList"), book.get("AuthorList")),
        journal=journal,
        year=_date_year(book.get("PubDate")) or _date_year(document.get("ContributionDate")),
        volume=clean_text(book.get("Volume")),
        issue="",
        pages=_pages(document.get("Pagination"), locations),
        publication_types=join_multi(document.get("PublicationType", [])),
        mesh_terms="",
        keywords=_keywords(document.get("KeywordList", [])),
        registry_ids=join_multi(find_registry_ids(title, abstract)),
        language=join_multi(document.get("Language", [])),
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else "",
    )
