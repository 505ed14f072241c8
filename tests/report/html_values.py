"""Reads a report back: elements with data-* attributes, the text of ids and sections."""
from html.parser import HTMLParser
from typing import Dict, List


class ReportParser(HTMLParser):
    """Collects every element's data-* attributes, and the text under each id and tag."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tagged: List[Dict[str, str]] = []
        self.tags: List[str] = []
        self.attributes: List[Dict[str, str]] = []
        self.text_by_id: Dict[str, str] = {}
        self._open: List[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        self.attributes.append(attributes)
        if any(k.startswith("data-") for k in attributes):
            self.tagged.append(attributes)
        if tag not in ("br", "meta", "img", "input", "link", "circle", "rect", "line",
                       "polyline"):
            self._open.append(attributes.get("id", ""))
            if attributes.get("id"):
                self.text_by_id.setdefault(attributes["id"], "")

    def handle_endtag(self, tag):
        if tag not in ("br", "meta", "img", "input", "link", "circle", "rect", "line",
                       "polyline") and self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in set(self._open):
            if element_id:
                self.text_by_id[element_id] += data

    def values(self, keys, **match) -> Dict[tuple, float]:
        """{(data-<key> for key in keys): float(data-value)} of elements matching `match`."""
        found = {}
        for attributes in self.tagged:
            if not attributes.get("data-value"):
                continue
            if all(attributes.get(f"data-{k}") == v for k, v in match.items()):
                found[tuple(attributes.get(f"data-{k}") for k in keys)] = \
                    float(attributes["data-value"])
        return found


def parse(path) -> ReportParser:
    parser = ReportParser()
    parser.feed(open(path, encoding="utf-8").read())
    return parser
