"""URLs cleaned offline: proxies, tracking, text fragments, DOIs, spaces in hosts, split URLs.

Nothing is fetched. Each rule is a rewrite a reader of the URL would agree with: a library
proxy host stands for the original site, tracking parameters and browser text fragments
carry nothing of the reference, a DOI is best cited as https://doi.org/…, and a host cannot
contain a space.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from lxml import etree

from ..docbook import NS, XLINK_NS, el, text_of, unwrap
from ..findings import FLAGGED, Findings
from ..ingest.inline import trim_url
from ..ingest.model import Where
from .locate import line_at, scope_of, where_of
from .text import text_nodes, wrap_text

HREF = f"{{{XLINK_NS}}}href"
TRACKING = re.compile(r"^(?:utm_[a-z_]+|srsltid|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|_ga|_gl|yclid)$",
                      re.IGNORECASE)
TRACKING_FRAGMENTS = {"google_vignette"}
PROXY_MARKERS = ("remotexs.", "ezproxy", "ezp.", ".idm.oclc.org", "libproxy", "proxy.lib", "proxy.library",
                 "eresources.", "openathens")
DOI_PATH = re.compile(r"/doi/(?:full/|abs/|pdf/|epdf/|epub/|book/)?(?P<doi>10\.\d{4,9}/[^?#\s]+)$", re.IGNORECASE)
_URI_SAFE = ":/?#[]@!$&'()*+,;=%~-._"
# "https://modern diplomacy.eu/…": a host cut by a space, the second part holding the domain
_SPACED_HOST = re.compile(r"\bhttps?://(?P<first>[a-z0-9-]+) (?P<rest>[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"
                          r"(?:/[^\s<>\"]*)?)", re.IGNORECASE)
# "<https://a.org/some- path>": an autolink whose brackets show it was broken over a line
_SPLIT_AUTOLINK = re.compile(r"<(?P<first>https?://[^\s<>]+)\s+(?P<rest>[^\s<>]+)>")


def clean_url(url: str) -> list[tuple[str, str, str]]:
    """The successive rewrites of ``url``: (finding type, message, rewritten URL)."""
    steps: list[tuple[str, str, str]] = []
    parts = urlsplit(url)
    host = parts.hostname or ""
    if any(marker in host for marker in PROXY_MARKERS) and "-" in host.split(".", 1)[0]:
        original = host.split(".", 1)[0].replace("--", "\0").replace("-", ".").replace("\0", "-")
        parts = parts._replace(netloc=original, scheme="https")
        steps.append(("proxy-url", f"library proxy host {host} rewritten to the original site {original}",
                      urlunsplit(parts)))
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(name, value) for name, value in query if not TRACKING.match(name)]
    if len(kept) != len(query):
        dropped = ", ".join(name for name, _ in query if TRACKING.match(name))
        parts = parts._replace(query=urlencode(kept, safe=":/@!$'()*+,;=~"))
        steps.append(("tracking-parameter", f"tracking parameter {dropped} removed", urlunsplit(parts)))
    fragment = parts.fragment
    if ":~:" in fragment:
        parts = parts._replace(fragment=fragment.split(":~:", 1)[0])
        steps.append(("text-fragment-url", "browser text fragment (#:~:text=) removed", urlunsplit(parts)))
    elif fragment in TRACKING_FRAGMENTS:
        parts = parts._replace(fragment="")
        steps.append(("tracking-parameter", f"tracking fragment #{fragment} removed", urlunsplit(parts)))
    current = urlunsplit(parts)
    doi = _doi_of(parts)
    if doi and current != f"https://doi.org/{doi}":
        steps.append(("doi-url", f"DOI {doi} written as https://doi.org/…", f"https://doi.org/{doi}"))
    return steps


def _doi_of(parts) -> str | None:
    host = (parts.hostname or "").lower()
    if host in ("doi.org", "dx.doi.org", "www.doi.org"):
        return parts.path.lstrip("/") or None
    match = DOI_PATH.search(parts.path)
    return match.group("doi") if match else None


def repair_urls(root: etree._Element, findings: Findings) -> None:
    """Clean every link of the book, and mend URLs that extraction could not link."""
    for link in root.iter(f"{{{NS['db']}}}link"):
        href = link.get(HREF)
        if not href:
            continue
        where, scope = _where(link)
        printed = link.text == href
        href = _cleaned(href, findings, where, scope)
        if href != link.get(HREF):
            link.set(HREF, quote(href, safe=_URI_SAFE))
            if printed and len(link) == 0:
                link.text = href
    _mend_unlinked(root, findings)
    _split_bare_urls(root, findings)
    _unlink_unsafe(root, findings)


# Links a reader of the book may follow: the web. A link to this machine, the reader's own network or another
# scheme (file:, javascript:, data:, ftp:) would act on the reader's device, not take them to a reference.
LINK_SCHEMES = ("http", "https")


def unsafe_link(href: str) -> str | None:
    """Why a link must stay text (a scheme other than http(s); a loopback, private, link-local or reserved
    address; localhost), or None when it may be a link. A relative link (no scheme) is left to the renderer."""
    try:
        parts = urlsplit(href.strip())
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return "a malformed address"
    scheme = parts.scheme.lower()
    if scheme and scheme not in LINK_SCHEMES:
        return f"a {scheme}: link, not a web address"
    if not scheme:
        return None
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")) or not host:
        return f"a link to {host or 'no host'}, a name for the reader's own machine or network"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    for kind in ("loopback", "private", "link_local", "unspecified", "reserved", "multicast"):
        if getattr(address, f"is_{kind}"):
            return f"a link to {address}, a {kind.replace('_', '-')} address"
    return None


def _unlink_unsafe(root: etree._Element, findings: Findings) -> None:
    """Links the editions must not carry keep their words as text, and each is a finding for the editor."""
    for link in list(root.iter(f"{{{NS['db']}}}link")):
        href = link.get(HREF)
        reason = unsafe_link(href) if href else None
        if reason is None:
            continue
        where, scope = _where(link)
        findings.flagged("unsafe-link", f"{reason}; its words are kept as text, without the link",
                         before=href, where=where, chapter=scope)
        unwrap(link)


def _cleaned(href: str, findings: Findings, where: Where, scope: str | None) -> str:
    """``href`` after each cleaning step the editor has not rejected (a rejected step stops the rest)."""
    for kind, message, rewritten in clean_url(href):
        chosen = findings.propose(kind, message, certain=True, before=href, after=rewritten,
                                  where=where, chapter=scope)
        if chosen is None:
            break
        href = chosen
    return href


def _split_bare_urls(root: etree._Element, findings: Findings) -> None:
    """A bare URL cut at a line end (``…/long-`` then ``path/page``) may continue after the space; not certain."""
    for link in root.iter(f"{{{NS['db']}}}link"):
        tail = link.tail or ""
        text = link.text or ""
        match = re.match(r" (?P<rest>[a-z0-9][\w\-./%?=&#~]*[\w/])", tail)
        if not match or not text.endswith(tuple("/-_=?&")) or not re.search(r"[/.\-_]", match.group("rest")):
            continue
        where, scope = _where(link)
        joined = text + match.group("rest")
        lines = _lines_of_cut(link, f"{text} {match.group('rest')}", len(text) + 1, findings)
        chosen = findings.propose("split-url", "a URL may continue after a line break; join it?", certain=False,
                                  before=f"{text} {match.group('rest')}", after=joined,
                                  where=Where(line=lines[0]) if lines else where, chapter=scope, source_lines=lines)
        if chosen is not None:
            link.set(HREF, quote(chosen, safe=_URI_SAFE))
            link.text = chosen
            link.tail = tail[match.end():]


def _lines_of_cut(link: etree._Element, cut: str, rest_at: int, findings: Findings) -> list[int]:
    """The source lines of a URL cut at a line end: the line its start is on and the line its rest is on (a
    paragraph re-joined across lines knows only its first and last line; the join findings tell the rest)."""
    container = next((ancestor for ancestor in link.iterancestors()
                      if etree.QName(ancestor).localname in ("para", "bibliomixed", "title")), None)
    if container is None:
        return []
    position = text_of(container).find(cut)
    if position < 0:
        return []
    lines = {line_at(container, position, findings).line, line_at(container, position + rest_at, findings).line}
    return sorted(line for line in lines if line is not None)


def _mend_unlinked(root: etree._Element, findings: Findings) -> None:
    """URLs left as text (a space in the host, an autolink broken over a line) become links."""
    for container in root.xpath("//db:footnote/db:para | //db:bibliomixed | //db:para[not(ancestor::db:footnote)]",
                                namespaces=NS):
        for node in list(text_nodes(container)):
            for pattern, kind in ((_SPACED_HOST, "broken-url"), (_SPLIT_AUTOLINK, "split-url")):
                match = pattern.search(node.value)
                if not match:
                    continue
                broken, _ = trim_url(match.group(0)) if kind == "broken-url" else (match.group(0), "")
                joined = (match.group("first") + match.group("rest")) if kind == "split-url" else \
                    broken.replace(" ", "", 1)
                where, scope = _where(container)
                message = ("space removed from the host of a URL" if kind == "broken-url"
                           else "URL broken over a line re-joined")
                fixed = findings.propose(kind, message, certain=True, before=broken, after=joined,
                                         where=where, chapter=scope)
                if fixed is None:
                    continue
                _settle_reader_report(findings, broken)
                link = el("link", attrs={HREF: quote(fixed, safe=_URI_SAFE)}, text=fixed)
                wrap_text(node, match.start(), match.start() + len(broken), link)
                cleaned = _cleaned(fixed, findings, where, scope)
                if cleaned != fixed:
                    link.set(HREF, quote(cleaned, safe=_URI_SAFE))
                    link.text = cleaned
                break


def _settle_reader_report(findings: Findings, mended: str) -> None:
    """The reader flagged this URL as unlinkable; now that it is mended, the repair's finding says so instead."""
    for finding in findings.of_type("broken-url"):
        if finding.action == FLAGGED and finding.before and (mended in finding.before or finding.before in mended):
            findings.remove(finding)
            return


def _where(element: etree._Element) -> tuple[Where, str | None]:
    return where_of(element), scope_of(element)
