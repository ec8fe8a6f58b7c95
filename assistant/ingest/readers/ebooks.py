"""EPUB: chapters in reading order (the spine), each under its own heading."""

from __future__ import annotations

import zipfile
from pathlib import PurePosixPath
from xml.etree import ElementTree

from assistant.ingest.readers.common import corrupt, open_zip
from assistant.ingest.readers.markup import html_title, parse_html
from assistant.types import Block


def parse_epub(data: bytes) -> list[Block]:
    z = open_zip(data, "EPUB")
    try:
        container = ElementTree.fromstring(z.read("META-INF/container.xml"))
        rootfile = next(el.get("full-path") for el in container.iter() if el.tag.endswith("rootfile"))
        opf_path = PurePosixPath(str(rootfile))
        opf = ElementTree.fromstring(z.read(str(opf_path)))
    except (KeyError, StopIteration, ElementTree.ParseError, zipfile.BadZipFile) as exc:
        raise corrupt("EPUB", exc) from exc
    manifest = {el.get("id"): el.get("href") for el in opf.iter() if el.tag.endswith("}item")}
    spine = [el.get("idref") for el in opf.iter() if el.tag.endswith("}itemref")]
    blocks: list[Block] = []
    for number, idref in enumerate(spine, start=1):
        href = manifest.get(idref)
        if not href:
            continue
        name = str(opf_path.parent / href.split("#")[0])
        try:
            page = z.read(name)
        except KeyError:
            continue
        chapter = parse_html(page)
        title = next((b.text for b in chapter if b.kind == "heading"), None) or html_title(page) or f"Chapter {number}"
        for b in chapter:
            heading = b.heading if b.heading[:1] == (title,) or (b.kind == "heading" and b.text == title) \
                else (title, *b.heading)
            blocks.append(Block(b.text, b.kind, heading, None, None, None, b.level))
    return blocks


READERS = {"epub": parse_epub}
